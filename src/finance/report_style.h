// The report page's stylesheet, inlined into report.html: screen and print.
#pragma once

namespace qat {

const char* report_css();

}  // namespace qat
