// Weka's ARFF format (as Debian's weka ships credit-g.arff): "@attribute
// NAME TYPE" lines, then "@data" and comma-separated rows whose values may
// be in single or double quotes; '%' starts a comment; "?" is missing.
// Sparse rows ("{0 x, 3 y}") are not supported (qat::Error).
#pragma once
#include <string>

#include "finance/table_features.h"

namespace qat {

// qat::Error "path:line: problem" for a malformed file.
Table read_arff(const std::string& path);

}  // namespace qat
