// The message of the qat::Error a call throws: shared by the test areas.
#pragma once
#include <gtest/gtest.h>

#include <string>

#include "base/error.h"

namespace qat::test {

// The message of the qat::Error that fn throws, or "" (and a failure) if none.
template <typename Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const qat::Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw a non-qat exception: " << e.what();
    return "";
  }
  ADD_FAILURE() << "did not throw";
  return "";
}

// Expects fn to throw a qat::Error whose message contains needle.
template <typename Fn>
void expect_error(Fn&& fn, const std::string& needle) {
  const std::string message = error_of(std::forward<Fn>(fn));
  EXPECT_NE(message.find(needle), std::string::npos) << "expected an error mentioning \"" << needle << "\", got: " << message;
}

}  // namespace qat::test
