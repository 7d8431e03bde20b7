// An output file of the CLI that appears whole: written to a temporary file
// beside it and renamed over its path when committed, so that a reader sees
// either no file or a complete one, never a half-written one.
#ifndef LEADSCORE_TOOLS_OUTPUT_FILE_H_
#define LEADSCORE_TOOLS_OUTPUT_FILE_H_

#include <fstream>
#include <memory>
#include <string>
#include <thread>

namespace leadscore::cli {

// Not thread-safe.
//
// A regular file already at the path is moved aside when the output is
// opened, and removed by a thread of its own while the output is written
// (removing a large file is file-system work that would otherwise delay
// the run: a few ms per 10 MB on ext4, and a wait when the old data is
// still being written to disk). A path that is not a regular file or
// nothing (a terminal, a pipe, /dev/null, a symbolic link) is written in
// place, as an ordinary file would be.
class OutputFile {
 public:
  // Opens `path` for writing; null (and errno set) when it cannot be.
  static std::unique_ptr<OutputFile> Open(const std::string& path);
  ~OutputFile();  // not committed: the temporary file is removed
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  std::ostream& stream() { return out_; }
  // Flushes and closes the file and puts it at its path. False (errno set)
  // when writing or renaming failed; the temporary file is then removed.
  bool Commit();

 private:
  explicit OutputFile(std::string path) : path_(std::move(path)) {}

  std::string path_;
  std::string temp_;  // empty: written in place
  std::ofstream out_;
  std::thread remove_old_;
  bool committed_ = false;
};

}  // namespace leadscore::cli

#endif  // LEADSCORE_TOOLS_OUTPUT_FILE_H_
