// OutputFile: a temporary file beside the output, renamed over it at the end.
#include "tools/output_file.h"

#include <cerrno>
#include <cstdio>

#include <sys/stat.h>
#include <unistd.h>

namespace leadscore::cli {

std::unique_ptr<OutputFile> OutputFile::Open(const std::string& path) {
  std::unique_ptr<OutputFile> f(new OutputFile(path));
  struct stat st;
  const bool exists = lstat(path.c_str(), &st) == 0;
  if (exists && !S_ISREG(st.st_mode)) {
    // A device, a pipe, a link: written in place.
    f->out_.open(path, std::ios::binary | std::ios::trunc);
    if (!f->out_) return nullptr;
    return f;
  }
  f->temp_ = path + ".tmp-" + std::to_string(getpid());
  f->out_.open(f->temp_, std::ios::binary | std::ios::trunc);
  if (!f->out_) return nullptr;
  if (exists) {
    // The earlier output goes aside now, and away on a thread of its own.
    const std::string old = path + ".old-" + std::to_string(getpid());
    if (std::rename(path.c_str(), old.c_str()) == 0) {
      f->remove_old_ = std::thread([old] { std::remove(old.c_str()); });
    }
  }
  return f;
}

OutputFile::~OutputFile() {
  if (remove_old_.joinable()) remove_old_.join();
  if (!committed_ && !temp_.empty()) {
    out_.close();
    std::remove(temp_.c_str());
  }
}

bool OutputFile::Commit() {
  out_.flush();
  out_.close();
  if (!out_) {
    const int saved = errno;
    if (!temp_.empty()) std::remove(temp_.c_str());
    committed_ = true;
    errno = saved;
    return false;
  }
  committed_ = true;
  if (temp_.empty()) return true;
  if (std::rename(temp_.c_str(), path_.c_str()) != 0) {
    const int saved = errno;
    std::remove(temp_.c_str());
    errno = saved;
    return false;
  }
  return true;
}

}  // namespace leadscore::cli
