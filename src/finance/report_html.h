// report.html of `qat demo`: one self-contained page (inline CSS and SVG, no
// scripts, fonts or images) from the report.json the demo writes — the main
// table of size, latency, throughput, CPU time, energy and task metrics per
// model against FP32, baselines, goals met or not, three charts and notes.
// Any optional field may be missing or null and prints as "—".
#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace qat {

// Throws qat::Error only when `models` is missing or not an array.
std::string render_report_html(const nlohmann::json& report);

}  // namespace qat
