// Summary statistics shared by eval reports and `qat bench`.
#pragma once
#include <vector>

namespace qat {

double mean(const std::vector<double>& v);
// Sample standard deviation (divides by n - 1); 0 for fewer than two values.
double stddev(const std::vector<double>& v);
// The p-quantile (p in [0, 1]) with linear interpolation between the closest
// ranks (numpy's default); v need not be sorted. Throws on an empty vector.
double percentile(std::vector<double> v, double p);

}  // namespace qat
