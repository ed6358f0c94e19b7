// Read-only memory map of a whole file. Model weights are used in place from
// the map (no copy), so resident memory stays close to what is touched.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace qat {

class MappedFile {
 public:
  explicit MappedFile(const std::string& path);  // throws qat::Error naming the path
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// Drops the whole pages inside [p, p + n) of a read-only file mapping from this
// process's resident memory (madvise DONTNEED); reading them again faults
// them back in from the file. A no-op for memory that is not page-aligned
// enough to hold a whole page.
void release_mapped_pages(const void* p, size_t n);

}  // namespace qat
