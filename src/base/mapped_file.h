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

// Drops this process's resident pages of [p, p + n) (whole pages inside the
// range only). ONLY for read-only file mappings such as MappedFile's: the
// pages come back from the file on the next access, so nothing is lost; used
// by streaming writers so reading a 4 GB input does not leave 4 GB resident.
// On anonymous (heap) memory this would zero the data: never call it there.
void release_mapped_pages(const void* p, size_t n);

}  // namespace qat
