// GGUF: reading gguf-py's output, byte-identical writing, round trips,
// getters, writer validation and robustness against truncation.
#include "formats/gguf.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "base/fp16.h"
#include "fixture_content.h"
#include "formats/gguf_internal.h"
#include "formats/tensor_type.h"
#include "test_util.h"

namespace qat {
namespace {

using test::error_of;
using test::read_bytes;
using test::scratch_path;

std::string fixture(const std::string& name) { return std::string(QAT_FIXTURES_DIR) + "/gguf/" + name; }

template <typename T>
std::vector<T> array_values(const GgufValue& v) {
  std::vector<T> out(v.raw.size() / sizeof(T));
  std::memcpy(out.data(), v.raw.data(), v.raw.size());
  return out;
}

void check_fixture_content(const GgufFile& f, uint64_t alignment) {
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.alignment(), alignment);
  EXPECT_EQ(f.get_string("general.architecture"), "gemma3");
  EXPECT_EQ(f.kv().front().first, "general.architecture");  // file order kept
  EXPECT_EQ(f.get_uint("test.u8"), 200u);
  EXPECT_EQ(f.find("test.i8")->num.i, -100);
  EXPECT_EQ(f.get_uint("test.u16"), 60000u);
  EXPECT_EQ(f.find("test.i16")->num.i, -30000);
  EXPECT_EQ(f.get_uint("test.u32"), 4000000000u);
  EXPECT_EQ(f.find("test.i32")->num.i, -2000000000);
  EXPECT_EQ(f.get_float("test.f32"), 1.5);
  EXPECT_EQ(f.get_uint("test.u64"), (uint64_t(1) << 40) + 3);
  EXPECT_EQ(f.find("test.i64")->num.i, -(int64_t(1) << 40));
  EXPECT_EQ(f.get_float("test.f64"), 3.141592653589793);
  EXPECT_TRUE(f.get_bool_opt("test.bool", false));
  EXPECT_EQ(f.get_string("test.string"), "h\u00e9llo w\u00f6rld");
  EXPECT_EQ(f.get_string("test.empty_string"), "");
  EXPECT_EQ(array_values<uint8_t>(f.get_array("test.arr_u8", GgufType::UINT8)),
            (std::vector<uint8_t>{1, 2, 255}));
  EXPECT_EQ(array_values<int8_t>(f.get_array("test.arr_i8", GgufType::INT8)),
            (std::vector<int8_t>{-1, 0, 127}));
  EXPECT_EQ(array_values<uint16_t>(f.get_array("test.arr_u16", GgufType::UINT16)),
            (std::vector<uint16_t>{1, 65535}));
  EXPECT_EQ(array_values<int16_t>(f.get_array("test.arr_i16", GgufType::INT16)),
            (std::vector<int16_t>{-32768, 5}));
  EXPECT_EQ(array_values<uint32_t>(f.get_array("test.arr_u32", GgufType::UINT32)),
            (std::vector<uint32_t>{7, 4294967295u}));
  EXPECT_EQ(array_values<int32_t>(f.get_array("test.arr_i32", GgufType::INT32)),
            (std::vector<int32_t>{-7, 2147483647, 0}));
  EXPECT_EQ(array_values<uint64_t>(f.get_array("test.arr_u64", GgufType::UINT64)),
            (std::vector<uint64_t>{(uint64_t(1) << 63) + 1}));
  EXPECT_EQ(array_values<int64_t>(f.get_array("test.arr_i64", GgufType::INT64)),
            (std::vector<int64_t>{-(int64_t(1) << 62), 9}));
  EXPECT_EQ(array_values<float>(f.get_array("test.arr_f32", GgufType::FLOAT32)),
            (std::vector<float>{0.5f, -1.25f}));
  EXPECT_EQ(array_values<double>(f.get_array("test.arr_f64", GgufType::FLOAT64)),
            (std::vector<double>{0.1, -2.5e300}));
  EXPECT_EQ(f.get_array("test.arr_bool", GgufType::BOOL).raw, (std::vector<uint8_t>{1, 0, 1}));
  EXPECT_EQ(f.get_array("test.arr_str", GgufType::STRING).strs,
            (std::vector<std::string>{"a", "", "\u00fc\u00df"}));
  EXPECT_EQ(f.get_array("test.arr_str", GgufType::STRING).array_size(), 3u);

  ASSERT_EQ(f.tensors().size(), 6u);
  const GgufTensorInfo* emb = f.find_tensor("tok_embd.weight");
  ASSERT_TRUE(emb);
  EXPECT_EQ(emb->dims, (std::vector<uint64_t>{4, 3}));
  EXPECT_EQ(emb->type, 0u);
  EXPECT_EQ(emb->n_elements, 12u);
  EXPECT_EQ(emb->n_bytes, 48u);
  float first, last;
  std::memcpy(&first, emb->data, 4);
  std::memcpy(&last, emb->data + 44, 4);
  EXPECT_EQ(first, -2.0f);
  EXPECT_EQ(last, 3.5f);

  const GgufTensorInfo* norm = f.find_tensor("blk.0.attn_norm.weight");
  ASSERT_TRUE(norm);
  uint16_t h;
  std::memcpy(&h, norm->data + 2 * 3, 2);
  EXPECT_EQ(fp16_to_f32(h), 0.75f);

  const GgufTensorInfo* q8 = f.find_tensor("blk.0.ffn_down.weight");
  ASSERT_TRUE(q8);
  EXPECT_EQ(q8->dims, (std::vector<uint64_t>{32, 2}));
  EXPECT_EQ(q8->type, uint32_t(TensorType::Q8_0));
  EXPECT_EQ(std::vector<uint8_t>(q8->data, q8->data + q8->n_bytes), test::pattern_bytes(68, 1));

  const GgufTensorInfo* i32 = f.find_tensor("blk.0.i32");
  ASSERT_TRUE(i32);
  EXPECT_EQ(i32->dims, (std::vector<uint64_t>{2, 2, 2}));
  EXPECT_EQ(i32->n_bytes, 32u);
  for (const GgufTensorInfo& t : f.tensors()) EXPECT_EQ(t.offset % alignment, 0u) << t.name;
  EXPECT_EQ(f.find_tensor("missing"), nullptr);
  EXPECT_EQ(f.find("missing"), nullptr);
}

TEST(Gguf, ReadsFileWrittenByGgufPy) {
  check_fixture_content(*GgufFile::open(fixture("gguf_py_small.gguf")), 32);
}

TEST(Gguf, ReadsFileWrittenByGgufPyWithAlignment64) {
  check_fixture_content(*GgufFile::open(fixture("gguf_py_align64.gguf")), 64);
}

TEST(Gguf, WriterIsByteIdenticalToGgufPy) {
  for (uint32_t alignment : {32u, 64u}) {
    GgufWriter w;
    test::GgufFixtureData data;
    test::fill_gguf_fixture(w, data, alignment);
    const std::string out = scratch_path(std::to_string(alignment) + ".gguf");
    w.write(out, false);
    const std::string ref = fixture(alignment == 32 ? "gguf_py_small.gguf" : "gguf_py_align64.gguf");
    EXPECT_EQ(read_bytes(out), read_bytes(ref)) << "alignment " << alignment;
    std::filesystem::remove(out);
  }
}

TEST(Gguf, RoundTripWithEveryAlignment) {
  for (uint64_t alignment : {1u, 2u, 8u, 32u, 64u, 4096u}) {
    GgufWriter w;
    w.alignment = alignment;
    test::GgufFixtureData data;
    test::fill_gguf_fixture(w, data, 32);  // no explicit key: the writer adds it
    const std::string out = scratch_path(std::to_string(alignment) + ".gguf");
    w.write(out, false);
    auto f = GgufFile::open(out);
    check_fixture_content(*f, alignment);
    if (alignment == 32) {
      EXPECT_EQ(f->find("general.alignment"), nullptr);
    } else {
      EXPECT_EQ(f->get_uint("general.alignment"), alignment);
      EXPECT_EQ(f->kv().back().first, "general.alignment");
    }
    EXPECT_EQ(f->file_size() % alignment, 0u);
    std::filesystem::remove(out);
  }
}

TEST(Gguf, EmptyFileRoundTrips) {
  const std::string out = scratch_path("empty.gguf");
  GgufWriter().write(out, false);
  auto f = GgufFile::open(out);
  EXPECT_TRUE(f->kv().empty());
  EXPECT_TRUE(f->tensors().empty());
  EXPECT_EQ(f->file_size(), 32u);  // 24-byte header padded to the alignment, as gguf-py does
  std::filesystem::remove(out);
}

TEST(Gguf, SetReplacesInPlace) {
  GgufWriter w;
  w.set("a", GgufValue::u32(1));
  w.set("b", GgufValue::u32(2));
  w.set("a", GgufValue::string("x"));
  const std::string out = scratch_path("set.gguf");
  w.write(out, false);
  auto f = GgufFile::open(out);
  ASSERT_EQ(f->kv().size(), 2u);
  EXPECT_EQ(f->kv()[0].first, "a");
  EXPECT_EQ(f->get_string("a"), "x");
  std::filesystem::remove(out);
}

TEST(Gguf, TypedGettersNameTheKeyAndTypes) {
  auto f = GgufFile::open(fixture("gguf_py_small.gguf"));
  const std::string path = fixture("gguf_py_small.gguf");
  std::string e = error_of([&] { f->get_string("test.u32"); });
  EXPECT_EQ(e.rfind(path, 0), 0u) << e;
  EXPECT_NE(e.find("key 'test.u32': expected string, found uint32"), std::string::npos) << e;
  e = error_of([&] { f->get_uint("nope"); });
  EXPECT_NE(e.find("missing key 'nope'"), std::string::npos) << e;
  e = error_of([&] { f->get_uint("test.i8"); });
  EXPECT_NE(e.find("expected a non-negative integer, found int8 -100"), std::string::npos) << e;
  e = error_of([&] { f->get_uint("test.f32"); });
  EXPECT_NE(e.find("found float32"), std::string::npos) << e;
  e = error_of([&] { f->get_array("test.arr_i32", GgufType::FLOAT32); });
  EXPECT_NE(e.find("expected array of float32, found array of int32"), std::string::npos) << e;
  e = error_of([&] { f->get_array("test.u8", GgufType::UINT8); });
  EXPECT_NE(e.find("expected array of uint8, found uint8"), std::string::npos) << e;
  e = error_of([&] { f->get_bool_opt("test.u8", true); });
  EXPECT_NE(e.find("expected bool, found uint8"), std::string::npos) << e;
  e = error_of([&] { f->get_float("test.string"); });
  EXPECT_NE(e.find("expected a number, found string"), std::string::npos) << e;

  EXPECT_EQ(f->get_float("test.i32"), -2000000000.0);
  EXPECT_EQ(f->get_float("test.u8"), 200.0);
  EXPECT_FALSE(f->get_string_opt("nope").has_value());
  EXPECT_FALSE(f->get_uint_opt("nope").has_value());
  EXPECT_FALSE(f->get_float_opt("nope").has_value());
  EXPECT_TRUE(f->get_bool_opt("nope", true));
}

TEST(Gguf, ValueHelpers) {
  EXPECT_TRUE(GgufValue::u32(1).is_integer());
  EXPECT_TRUE(GgufValue::boolean(true).is_integer());
  EXPECT_FALSE(GgufValue::f32(1).is_integer());
  EXPECT_TRUE(GgufValue::f32(1).is_float());
  EXPECT_EQ(GgufValue::f32_array({1, 2, 3}).array_size(), 3u);
  EXPECT_EQ(GgufValue::bool_array({true, false}).array_size(), 2u);
  EXPECT_EQ(GgufValue::u32(5).array_size(), 0u);
  EXPECT_STREQ(gguf_type_name(GgufType::FLOAT64), "float64");
}

TEST(Gguf, WriterRejectsBadTensors) {
  GgufWriter w;
  std::vector<float> d(64);
  w.add_tensor("a", {32, 2}, 0, d.data(), 256);
  EXPECT_NE(error_of([&] { w.add_tensor("a", {4}, 0, d.data(), 16); }).find("added twice"),
            std::string::npos);
  EXPECT_NE(error_of([&] { w.add_tensor("b", {4}, 0, d.data(), 12); }).find("16"),
            std::string::npos);
  EXPECT_NE(error_of([&] { w.add_tensor("b", {4}, 77, d.data(), 16); }).find("unknown tensor type id 77"),
            std::string::npos);
  EXPECT_NE(error_of([&] { w.add_tensor("b", {16}, 8, d.data(), 17); }).find("block size 32"),
            std::string::npos);
  EXPECT_NE(error_of([&] { w.add_tensor("b", {1, 1, 1, 1, 1}, 0, d.data(), 4); }).find("5 dimensions"),
            std::string::npos);
  EXPECT_NE(error_of([&] { w.add_tensor("b", {0}, 0, d.data(), 0); }).find("size 0"),
            std::string::npos);
  EXPECT_NE(error_of([&] { w.add_tensor(std::string(64, 'x'), {1}, 0, d.data(), 4); }).find("at most 63"),
            std::string::npos);
}

TEST(Gguf, FailedWriteLeavesNoFile) {
  const std::string out = scratch_path("bad.gguf");
  GgufWriter w;
  w.alignment = 48;  // not a power of two
  EXPECT_NE(error_of([&] { w.write(out, false); }).find("not a power of two"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(out));
  GgufWriter nested;
  GgufValue v = GgufValue::u32_array({1});
  v.elem_type = GgufType::ARRAY;
  nested.set("x", v);
  EXPECT_NE(error_of([&] { nested.write(out, false); }).find("nested arrays"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(out));
  for (const auto& entry : std::filesystem::directory_iterator(testing::TempDir()))
    EXPECT_EQ(entry.path().string().find(out + ".tmp"), std::string::npos) << entry.path();
  EXPECT_NE(error_of([] { GgufWriter().write("/nonexistent-dir/x.gguf", false); })
                .find("/nonexistent-dir/x.gguf"),
            std::string::npos);
}

TEST(Gguf, MissingFileErrorNamesPath) {
  const std::string e = error_of([] { GgufFile::open("/nonexistent/m.gguf"); });
  EXPECT_EQ(e.rfind("/nonexistent/m.gguf", 0), 0u) << e;
}

// Every prefix that cuts into the header or a tensor's data is rejected with
// a qat::Error naming the file (and, under ASan, without reading past it).
TEST(Gguf, EveryTruncationIsRejected) {
  for (const char* name : {"gguf_py_small.gguf", "gguf_py_align64.gguf"}) {
    const std::vector<uint8_t> bytes = read_bytes(fixture(name));
    auto full = parse_gguf_memory("mem.gguf", bytes.data(), bytes.size());
    uint64_t data_end = 0;
    for (const GgufTensorInfo& t : full->tensors())
      data_end = std::max<uint64_t>(data_end, uint64_t(t.data - bytes.data()) + t.n_bytes);
    for (size_t n = 0; n < data_end; ++n) {
      std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + n);  // exact-size buffer for ASan
      const std::string e = error_of([&] { parse_gguf_memory("mem.gguf", cut.data(), n); });
      ASSERT_EQ(e.rfind("mem.gguf: ", 0), 0u) << "prefix " << n << ": " << e;
    }
    // Trailing padding after the last tensor is optional.
    EXPECT_NO_THROW(parse_gguf_memory("mem.gguf", bytes.data(), data_end));
  }
}

// Overwriting any single header byte either still parses or throws qat::Error.
TEST(Gguf, SingleByteCorruptionNeverCrashes) {
  const std::vector<uint8_t> bytes = read_bytes(fixture("gguf_py_small.gguf"));
  auto full = parse_gguf_memory("mem.gguf", bytes.data(), bytes.size());
  const size_t header_end = size_t(full->tensors().front().data - bytes.data());
  for (size_t i = 0; i < header_end; ++i) {
    for (uint8_t v : {uint8_t(0x00), uint8_t(0x01), uint8_t(0x7f), uint8_t(0xff)}) {
      std::vector<uint8_t> b = bytes;
      b[i] = v;
      try {
        parse_gguf_memory("mem.gguf", b.data(), b.size());
      } catch (const Error&) {
      }
    }
  }
}

}  // namespace
}  // namespace qat
