// Errors that reach the user: one exception type carrying a complete message
// (what failed, where, what was expected) and an optional HINT of what to do.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace qat {

// Concatenates any streamable values into one string (g++ 12 has no <format>).
template <typename... Args>
std::string cat(Args&&... args) {
  std::ostringstream os;
  (os << ... << std::forward<Args>(args));
  return os.str();
}

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, std::string hint = {})
      : std::runtime_error(message), hint_(std::move(hint)) {}
  const std::string& hint() const { return hint_; }

 private:
  std::string hint_;
};

template <typename... Args>
[[noreturn]] void fail(Args&&... args) {
  throw Error(cat(std::forward<Args>(args)...));
}

}  // namespace qat

// Throws qat::Error with the concatenated message when cond is false.
#define QAT_CHECK(cond, ...)                  \
  do {                                        \
    if (!(cond)) ::qat::fail(__VA_ARGS__);    \
  } while (0)
