// Output files appear whole or not at all: bytes go to "<path>.tmp-<pid>",
// commit() fsyncs and renames over <path>; destruction without commit()
// removes the temporary, so an error never leaves a half-written file.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace qat {

class AtomicFile {
 public:
  explicit AtomicFile(const std::string& path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t n);
  void write_zeros(size_t n);
  uint64_t position() const { return written_; }
  void commit();
  const std::string& path() const { return path_; }

 private:
  void flush_buffer();
  std::string path_, tmp_path_;
  int fd_ = -1;
  uint64_t written_ = 0;
  std::string buffer_;
  bool committed_ = false;
};

// Writes a small text file atomically.
void write_file_atomic(const std::string& path, const std::string& content);
// Reads a whole (small) file; throws naming the path.
std::string read_text_file(const std::string& path);

}  // namespace qat
