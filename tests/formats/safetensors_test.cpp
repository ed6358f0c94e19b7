// safetensors: reading the Python library's output, byte-identical writing,
// round trips, writer validation and robustness against truncation.
#include "formats/safetensors.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "fixture_content.h"
#include "formats/safetensors_internal.h"
#include "test_util.h"

namespace qat {
namespace {

using test::error_of;
using test::read_bytes;
using test::scratch_path;

const std::string kFixture = std::string(QAT_FIXTURES_DIR) + "/safetensors/st_py_small.safetensors";

size_t fixture_index(const std::string& name) {
  const auto& all = test::st_fixture_tensors();
  for (size_t i = 0; i < all.size(); ++i)
    if (name == all[i].name) return i;
  ADD_FAILURE() << "unexpected tensor " << name;
  return 0;
}

TEST(Safetensors, ReadsFileWrittenByPythonLibrary) {
  auto f = SafetensorsFile::open(kFixture);
  ASSERT_EQ(f->tensors().size(), test::st_fixture_tensors().size());
  EXPECT_EQ(f->metadata().at("format"), "pt\n\"q\" \u00e9");
  const uint8_t* prev_end = nullptr;
  for (const StTensor& t : f->tensors()) {
    const size_t i = fixture_index(t.name);
    const auto& want = test::st_fixture_tensors()[i];
    EXPECT_EQ(t.dtype, want.dtype) << t.name;
    EXPECT_EQ(t.shape, want.shape) << t.name;
    EXPECT_EQ(std::vector<uint8_t>(t.data, t.data + t.n_bytes), test::st_fixture_bytes(i)) << t.name;
    if (prev_end) {
      EXPECT_EQ(t.data, prev_end) << "tensors() is in file order";
    }
    prev_end = t.data + t.n_bytes;
    EXPECT_EQ(f->find(t.name), &t);
  }
  EXPECT_EQ(f->find("scalar")->n_elements, 1u);
  EXPECT_EQ(f->find("empty")->n_bytes, 0u);
  EXPECT_EQ(f->find("nope"), nullptr);
}

TEST(Safetensors, WriterIsByteIdenticalToPythonLibrary) {
  // The Python library orders tensors itself (by dtype, then name); give ours
  // the same order, taken from the fixture.
  auto ref = SafetensorsFile::open(kFixture);
  std::vector<std::vector<uint8_t>> bytes;
  std::vector<StWriteTensor> tensors;
  for (const StTensor& t : ref->tensors()) bytes.push_back(test::st_fixture_bytes(fixture_index(t.name)));
  for (size_t k = 0; k < ref->tensors().size(); ++k) {
    const StTensor& t = ref->tensors()[k];
    const auto& want = test::st_fixture_tensors()[fixture_index(t.name)];
    tensors.push_back({want.name, want.dtype, want.shape, bytes[k].data()});
  }
  const std::string out = scratch_path("st.safetensors");
  write_safetensors(out, tensors, {{"format", "pt\n\"q\" \u00e9"}});
  EXPECT_EQ(read_bytes(out), read_bytes(kFixture));
  std::filesystem::remove(out);
}

TEST(Safetensors, RoundTripPadsHeaderToEightBytes) {
  std::vector<float> a = {1, 2, 3, 4, 5, 6};
  std::vector<uint16_t> b = {7, 8};
  for (size_t len = 1; len <= 9; ++len) {
    const std::string name(len, 'n');
    const std::string out = scratch_path("rt.safetensors");
    write_safetensors(out,
                      {{name, StDtype::F32, {2, 3}, a.data()}, {"b", StDtype::BF16, {2}, b.data()},
                       {"e", StDtype::I8, {0}, nullptr}},
                      {{"k", "v"}, {"z", "\x01"}});
    const std::vector<uint8_t> bytes = read_bytes(out);
    uint64_t n;
    std::memcpy(&n, bytes.data(), 8);
    EXPECT_EQ(n % 8, 0u);
    auto f = SafetensorsFile::open(out);
    ASSERT_EQ(f->tensors().size(), 3u);
    EXPECT_EQ(f->tensors()[0].name, name);  // given order is file order
    EXPECT_EQ(f->tensors()[1].name, "b");
    EXPECT_EQ(std::memcmp(f->tensors()[0].data, a.data(), 24), 0);
    EXPECT_EQ(std::memcmp(f->find("b")->data, b.data(), 4), 0);
    EXPECT_EQ(f->metadata().at("z"), "\x01");
    std::filesystem::remove(out);
  }
}

TEST(Safetensors, EmptyFileRoundTrips) {
  const std::string out = scratch_path("empty.safetensors");
  write_safetensors(out, {});
  EXPECT_EQ(read_bytes(out).size(), 16u);  // length + "{}" + 6 spaces
  auto f = SafetensorsFile::open(out);
  EXPECT_TRUE(f->tensors().empty());
  EXPECT_TRUE(f->metadata().empty());
  std::filesystem::remove(out);
}

TEST(Safetensors, DtypeTable) {
  EXPECT_EQ(st_dtype_size(StDtype::BF16), 2u);
  EXPECT_EQ(st_dtype_size(StDtype::I64), 8u);
  EXPECT_STREQ(st_dtype_name(StDtype::BOOL), "BOOL");
  StDtype d;
  EXPECT_TRUE(st_parse_dtype("F16", &d));
  EXPECT_EQ(d, StDtype::F16);
  EXPECT_FALSE(st_parse_dtype("f16", &d));
}

TEST(Safetensors, WriterRejectsBadInputAndLeavesNoFile) {
  const std::string out = scratch_path("bad.safetensors");
  float x = 0;
  EXPECT_NE(error_of([&] {
              write_safetensors(out, {{"a", StDtype::F32, {1}, &x}, {"a", StDtype::F32, {1}, &x}});
            }).find("given twice"),
            std::string::npos);
  EXPECT_NE(error_of([&] { write_safetensors(out, {{"__metadata__", StDtype::F32, {1}, &x}}); })
                .find("reserved"),
            std::string::npos);
  EXPECT_NE(error_of([&] { write_safetensors(out, {{"a", StDtype::F32, {1}, nullptr}}); })
                .find("null data"),
            std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST(Safetensors, MissingFileErrorNamesPath) {
  const std::string e = error_of([] { SafetensorsFile::open("/nonexistent/m.safetensors"); });
  EXPECT_EQ(e.rfind("/nonexistent/m.safetensors", 0), 0u) << e;
}

TEST(Safetensors, EveryTruncationIsRejected) {
  const std::vector<uint8_t> bytes = read_bytes(kFixture);
  for (size_t n = 0; n < bytes.size(); ++n) {
    std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + n);
    const std::string e = error_of([&] { parse_safetensors_memory("mem.st", cut.data(), n); });
    ASSERT_EQ(e.rfind("mem.st: ", 0), 0u) << "prefix " << n << ": " << e;
  }
}

TEST(Safetensors, SingleByteCorruptionNeverCrashes) {
  const std::vector<uint8_t> bytes = read_bytes(kFixture);
  uint64_t n;
  std::memcpy(&n, bytes.data(), 8);
  for (size_t i = 0; i < 8 + n; ++i) {
    for (uint8_t v : {uint8_t(0x00), uint8_t('"'), uint8_t('9'), uint8_t(0xc3), uint8_t(0xff)}) {
      std::vector<uint8_t> b = bytes;
      b[i] = v;
      try {
        parse_safetensors_memory("mem.st", b.data(), b.size());
      } catch (const Error&) {
      }
    }
  }
}

}  // namespace
}  // namespace qat
