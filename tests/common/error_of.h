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

}  // namespace qat::test
