#include "lib/base/io.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "absl/strings/match.h"

namespace llmtk {
namespace {

constexpr unsigned char kZstdMagic[4] = {0x28, 0xB5, 0x2F, 0xFD};
constexpr size_t kPadding = 64;  // readable bytes kept after every line (simdjson)

absl::Status ErrnoError(int err, std::string_view what, std::string_view path) {
  std::string msg = absl::StrCat(ToAbsl(what), ": ", strerror(err), ", ", ToAbsl(path));
  if (err == ENOENT) return absl::NotFoundError(msg);
  if (err == EACCES || err == EPERM) return absl::PermissionDeniedError(msg);
  return absl::InternalError(msg);
}

// Plain file or stdin, with up to 4 bytes pushed back after sniffing.
class FdStream : public InputStream {
 public:
  FdStream(int fd, std::string name, bool owned, int64_t size)
      : fd_(fd), name_(std::move(name)), owned_(owned), size_(size) {}
  ~FdStream() override {
    if (owned_) close(fd_);
  }
  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    if (pushback_pos_ < pushback_.size()) {
      size_t k = std::min(n, pushback_.size() - pushback_pos_);
      memcpy(buf, pushback_.data() + pushback_pos_, k);
      pushback_pos_ += k;
      return k;
    }
    for (;;) {
      ssize_t r = read(fd_, buf, n);
      if (r >= 0) {
        raw_ += r;
        return static_cast<size_t>(r);
      }
      if (errno != EINTR) return ErrnoError(errno, "cannot read input", name_);
    }
  }
  const std::string& name() const override { return name_; }
  int64_t SizeHint() const override { return size_; }
  int64_t RawBytesRead() const override { return raw_ - static_cast<int64_t>(pushback_.size() - pushback_pos_); }
  // Reads up to 4 bytes for sniffing and keeps them for the next Read().
  absl::StatusOr<std::string_view> Peek4() {
    char tmp[4];
    size_t got = 0;
    while (got < 4) {
      ASSIGN_OR_RETURN(size_t k, Read(tmp + got, 4 - got));
      if (k == 0) break;
      got += k;
    }
    pushback_.assign(tmp, got);
    pushback_pos_ = 0;
    return std::string_view(pushback_);
  }

 private:
  int fd_;
  std::string name_;
  bool owned_;
  int64_t size_;
  int64_t raw_ = 0;
  std::string pushback_;
  size_t pushback_pos_ = 0;
};

class ZstdStream : public InputStream {
 public:
  explicit ZstdStream(std::unique_ptr<FdStream> raw)
      : raw_(std::move(raw)), dctx_(ZSTD_createDCtx()), in_buf_(ZSTD_DStreamInSize()) {}
  ~ZstdStream() override { ZSTD_freeDCtx(dctx_); }

  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    ZSTD_outBuffer out{buf, n, 0};
    while (out.pos == 0) {
      if (in_.pos == in_.size) {
        if (raw_eof_) {
          if (frame_open_) {
            return absl::DataLossError(absl::StrCat(
                "truncated zstd stream (ends inside a frame at compressed byte ", consumed_,
                "), ", raw_->name(), "; the file is incomplete: fetch or compress it again"));
          }
          return 0;
        }
        ASSIGN_OR_RETURN(size_t k, raw_->Read(in_buf_.data(), in_buf_.size()));
        if (k == 0) {
          raw_eof_ = true;
          continue;
        }
        in_ = ZSTD_inBuffer{in_buf_.data(), k, 0};
      }
      size_t before = in_.pos;
      size_t r = ZSTD_decompressStream(dctx_, &out, &in_);
      consumed_ += in_.pos - before;
      if (ZSTD_isError(r)) {
        return absl::DataLossError(absl::StrCat("corrupt zstd stream (", ZSTD_getErrorName(r),
                                                ") near compressed byte ", raw_->RawBytesRead(), ", ",
                                                raw_->name()));
      }
      // r == 0 exactly when a frame has been completely decoded and flushed.
      frame_open_ = (r != 0);
    }
    return out.pos;
  }
  const std::string& name() const override { return raw_->name(); }
  int64_t SizeHint() const override { return raw_->SizeHint(); }
  int64_t RawBytesRead() const override { return static_cast<int64_t>(consumed_); }

 private:
  std::unique_ptr<FdStream> raw_;
  ZSTD_DCtx* dctx_;
  std::vector<char> in_buf_;
  ZSTD_inBuffer in_{nullptr, 0, 0};
  bool raw_eof_ = false, frame_open_ = false;
  uint64_t consumed_ = 0;
};

// Decompresses on a background thread, a few blocks ahead of the reader, so
// that decompression and parsing overlap the way `zstd -dc | tool` does.
class PrefetchStream : public InputStream {
 public:
  explicit PrefetchStream(std::unique_ptr<InputStream> inner)
      : inner_(std::move(inner)), name_(inner_->name()), size_(inner_->SizeHint()) {
    thread_ = std::thread([this] { Produce(); });
  }
  ~PrefetchStream() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    while (pos_ >= cur_.data.size()) {
      if (cur_.last) return cur_.status.ok() ? absl::StatusOr<size_t>(0) : cur_.status;
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return !queue_.empty(); });
      cur_ = std::move(queue_.front());
      queue_.pop_front();
      pos_ = 0;
      cv_.notify_all();
    }
    size_t k = std::min(n, cur_.data.size() - pos_);
    memcpy(buf, cur_.data.data() + pos_, k);
    pos_ += k;
    return k;
  }
  const std::string& name() const override { return name_; }
  int64_t SizeHint() const override { return size_; }
  int64_t RawBytesRead() const override { return raw_read_.load(std::memory_order_relaxed); }

 private:
  struct Block {
    std::string data;
    absl::Status status;
    bool last = false;
  };
  void Produce() {
    for (;;) {
      Block b;
      b.data.resize(kBlock);
      auto k = inner_->Read(b.data.data(), b.data.size());
      raw_read_.store(inner_->RawBytesRead(), std::memory_order_relaxed);
      if (!k.ok()) {
        b.data.clear();
        b.status = k.status();
        b.last = true;
      } else {
        b.data.resize(*k);
        b.last = (*k == 0);
      }
      bool last = b.last;
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stop_ || queue_.size() < kDepth; });
      if (stop_) return;
      queue_.push_back(std::move(b));
      cv_.notify_all();
      if (last) return;
    }
  }
  static constexpr size_t kBlock = 1 << 20, kDepth = 4;
  std::unique_ptr<InputStream> inner_;
  std::string name_;
  int64_t size_;
  std::atomic<int64_t> raw_read_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Block> queue_;
  bool stop_ = false;
  Block cur_;
  size_t pos_ = 0;
  std::thread thread_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<InputStream>> OpenInput(std::string_view path) {
  std::unique_ptr<FdStream> raw;
  if (path == "-") {
    struct stat st;
    int64_t size = (fstat(0, &st) == 0 && S_ISREG(st.st_mode)) ? st.st_size : -1;
    raw = std::make_unique<FdStream>(0, "<stdin>", false, size);
  } else {
    std::string p(path);
    int fd = open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoError(errno, "cannot open input", p);
    struct stat st;
    if (fstat(fd, &st) != 0) {
      int err = errno;
      close(fd);
      return ErrnoError(err, "cannot stat input", p);
    }
    if (S_ISDIR(st.st_mode)) {
      close(fd);
      return absl::InvalidArgumentError(absl::StrCat("input is a directory, ", p));
    }
    raw = std::make_unique<FdStream>(fd, p, true, S_ISREG(st.st_mode) ? st.st_size : -1);
  }
  ASSIGN_OR_RETURN(std::string_view head, raw->Peek4());
  if (head.size() == 4 && memcmp(head.data(), kZstdMagic, 4) == 0) {
    return std::unique_ptr<InputStream>(
        new PrefetchStream(std::make_unique<ZstdStream>(std::move(raw))));
  }
  return std::unique_ptr<InputStream>(std::move(raw));
}

namespace {

// A directory given as input holds a corpus. What a toolkit run leaves there
// besides documents must not be read as documents, and a stray file must not
// either: the mix manifest is skipped by name, hidden files and files still
// being written (".tmp." names) are skipped, any other file that is not a
// document file is an error naming it.
enum class DirEntry { kDocuments, kSkip, kOther };

DirEntry ClassifyDirEntry(std::string_view name) {
  if (name.empty() || name[0] == '.' || name.find(".tmp.") != std::string_view::npos) return DirEntry::kSkip;
  if (name == kMixManifestName) return DirEntry::kSkip;
  for (std::string_view ext : kDocumentExtensions) {
    if (absl::EndsWithIgnoreCase(ToAbsl(name), ToAbsl(ext))) return DirEntry::kDocuments;
  }
  return DirEntry::kOther;
}

absl::Status NotADocumentFile(const std::string& dir, const std::string& file) {
  std::string hint;
  if (absl::EndsWithIgnoreCase(file, ".bin") || absl::EndsWithIgnoreCase(file, ".idx")) {
    hint = " (token shards: read them with llmtk-tok decode --input-format megatron)";
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "directory ", dir, " holds a file that is not a document file", hint, ", ", file,
      "; a directory reads only *.jsonl, *.ndjson, *.txt and their .zst (and any *.zst): name the files to read "
      "instead, or move it out"));
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ExpandInputs(const std::vector<std::string>& paths) {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  for (const std::string& p : paths) {
    if (p == "-") {
      out.push_back(p);
      continue;
    }
    std::error_code ec;
    fs::file_status st = fs::status(p, ec);
    if (ec || !fs::exists(st)) {
      return absl::NotFoundError(absl::StrCat("input not found: No such file or directory, ", p));
    }
    if (!fs::is_directory(st)) {
      out.push_back(p);
      continue;
    }
    std::vector<std::string> files;
    for (auto it = fs::recursive_directory_iterator(p, fs::directory_options::follow_directory_symlink, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (it->is_directory(ec)) {
        if (!name.empty() && name[0] == '.') it.disable_recursion_pending();
        continue;
      }
      if (!it->is_regular_file(ec)) continue;
      switch (ClassifyDirEntry(name)) {
        case DirEntry::kDocuments: files.push_back(it->path().string()); break;
        case DirEntry::kSkip: break;
        case DirEntry::kOther: return NotADocumentFile(p, it->path().string());
      }
    }
    if (ec) return ErrnoError(ec.value(), "cannot list directory", p);
    std::sort(files.begin(), files.end());
    out.insert(out.end(), files.begin(), files.end());
  }
  return out;
}

absl::StatusOr<std::string> ReadFileToString(std::string_view path) {
  ASSIGN_OR_RETURN(auto in, OpenInput(path));
  std::string out;
  if (in->SizeHint() > 0) out.reserve(static_cast<size_t>(in->SizeHint()));
  char buf[1 << 16];
  for (;;) {
    ASSIGN_OR_RETURN(size_t k, in->Read(buf, sizeof(buf)));
    if (k == 0) break;
    out.append(buf, k);
  }
  return out;
}

// ---------------------------------------------------------------- LineReader

LineReader::LineReader(std::unique_ptr<InputStream> in) : in_(std::move(in)) {
  buf_.resize((1 << 20) + kPadding);
}

absl::Status LineReader::Fill() {
  if (begin_ > 0) {
    memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (buf_.size() - end_ < (1 << 16) + kPadding) buf_.resize(buf_.size() * 2);
  ASSIGN_OR_RETURN(size_t k, in_->Read(buf_.data() + end_, buf_.size() - kPadding - end_));
  if (k == 0) eof_ = true;
  end_ += k;
  return absl::OkStatus();
}

absl::StatusOr<bool> LineReader::Next(std::string_view* line) {
  size_t scan = begin_;
  for (;;) {
    const char* nl = static_cast<const char*>(memchr(buf_.data() + scan, '\n', end_ - scan));
    if (nl != nullptr || (eof_ && begin_ < end_)) {
      size_t stop = nl ? static_cast<size_t>(nl - buf_.data()) : end_;
      size_t len = stop - begin_;
      line_offset_ = consumed_;
      consumed_ += len + (nl ? 1 : 0);
      if (len > 0 && buf_[begin_ + len - 1] == '\r') --len;
      *line = std::string_view(buf_.data() + begin_, len);
      begin_ = nl ? stop + 1 : end_;
      ++line_number_;
      return true;
    }
    if (eof_) return false;
    size_t scanned = end_ - begin_;
    RETURN_IF_ERROR(Fill());
    scan = begin_ + scanned;
  }
}

// ---------------------------------------------------------------- OutputFile

absl::Status BrokenPipeError() { return absl::CancelledError("broken pipe"); }
bool IsBrokenPipe(const absl::Status& s) {
  return s.code() == absl::StatusCode::kCancelled && s.message() == "broken pipe";
}

struct OutputFile::Zstd {
  ZSTD_CCtx* cctx = nullptr;
  std::vector<char> out;
  ~Zstd() { ZSTD_freeCCtx(cctx); }
};

absl::Status CreateParentDirectories(std::string_view path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) return absl::OkStatus();
  std::error_code ec;
  std::filesystem::create_directories(parent, ec);
  if (ec) return ErrnoError(ec.value(), absl::StrCat("cannot create the output's directory ", parent.string()), path);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<OutputFile>> OutputFile::Open(std::string_view path,
                                                             const OutputOptions& opts) {
  std::unique_ptr<OutputFile> f(new OutputFile());
  bool compress = opts.force_zstd;
  if (path.empty() || path == "-") {
    f->path_ = "<stdout>";
    f->is_stdout_ = true;
    f->fd_ = 1;
  } else if (struct stat st; stat(std::string(path).c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    // Renaming a temporary file over /dev/null or a FIFO would replace the
    // node itself (as root, the device); there is no whole file to protect.
    f->path_ = std::string(path);
    if (S_ISDIR(st.st_mode)) return absl::FailedPreconditionError(absl::StrCat("output is a directory, ", f->path_));
    f->in_place_ = true;
    f->fd_ = open(f->path_.c_str(), O_WRONLY | O_CLOEXEC);
    if (f->fd_ < 0) return ErrnoError(errno, "cannot open output", f->path_);
    compress = compress || (path.size() > 4 && path.substr(path.size() - 4) == ".zst");
  } else {
    static std::atomic<int> counter{0};
    f->path_ = std::string(path);
    f->tmp_path_ = absl::StrCat(f->path_, ".tmp.", getpid(), ".", counter++);
    RETURN_IF_ERROR(CreateParentDirectories(f->path_));
    f->fd_ = open(f->tmp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (f->fd_ < 0) return ErrnoError(errno, "cannot create output", f->path_);
    compress = compress || (path.size() > 4 && path.substr(path.size() - 4) == ".zst");
  }
  if (compress) {
    if (opts.zstd_level < 1 || opts.zstd_level > ZSTD_maxCLevel()) {
      return absl::InvalidArgumentError(absl::StrCat("--zstd-level must be between 1 and ",
                                                     ZSTD_maxCLevel(), ", got ", opts.zstd_level));
    }
    f->zstd_ = std::make_unique<Zstd>();
    f->zstd_->cctx = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(f->zstd_->cctx, ZSTD_c_compressionLevel, opts.zstd_level);
    ZSTD_CCtx_setParameter(f->zstd_->cctx, ZSTD_c_checksumFlag, 1);
    f->zstd_->out.resize(ZSTD_CStreamOutSize());
  }
  f->buf_.reserve(1 << 20);
  return f;
}

OutputFile::~OutputFile() {
  if (!is_stdout_ && !closed_ && fd_ >= 0) {
    close(fd_);
    if (!in_place_) unlink(tmp_path_.c_str());
  }
}

absl::Status OutputFile::WriteRaw(const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd_, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EPIPE) return BrokenPipeError();
      return ErrnoError(errno, "cannot write output", path_);
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return absl::OkStatus();
}

absl::Status OutputFile::FlushBuffer() {
  if (buf_.empty()) return absl::OkStatus();
  absl::Status s;
  if (!zstd_) {
    s = WriteRaw(buf_.data(), buf_.size());
  } else {
    ZSTD_inBuffer in{buf_.data(), buf_.size(), 0};
    while (in.pos < in.size) {
      ZSTD_outBuffer out{zstd_->out.data(), zstd_->out.size(), 0};
      size_t r = ZSTD_compressStream2(zstd_->cctx, &out, &in, ZSTD_e_continue);
      if (ZSTD_isError(r)) return absl::InternalError(absl::StrCat("zstd: ", ZSTD_getErrorName(r)));
      RETURN_IF_ERROR(WriteRaw(zstd_->out.data(), out.pos));
    }
  }
  buf_.clear();
  return s;
}

absl::Status OutputFile::Write(std::string_view data) {
  if (closed_) return absl::FailedPreconditionError(absl::StrCat("write after close, ", path_));
  bytes_in_ += data.size();
  if (buf_.size() + data.size() > (1 << 20)) RETURN_IF_ERROR(FlushBuffer());
  if (data.size() >= (1 << 20) && !zstd_) return WriteRaw(data.data(), data.size());
  buf_.append(data.data(), data.size());
  return absl::OkStatus();
}

absl::Status OutputFile::Close() {
  if (closed_) return absl::OkStatus();
  RETURN_IF_ERROR(FlushBuffer());
  if (zstd_) {
    ZSTD_inBuffer in{nullptr, 0, 0};
    size_t r;
    do {
      ZSTD_outBuffer out{zstd_->out.data(), zstd_->out.size(), 0};
      r = ZSTD_compressStream2(zstd_->cctx, &out, &in, ZSTD_e_end);
      if (ZSTD_isError(r)) return absl::InternalError(absl::StrCat("zstd: ", ZSTD_getErrorName(r)));
      RETURN_IF_ERROR(WriteRaw(zstd_->out.data(), out.pos));
    } while (r != 0);
  }
  closed_ = true;
  if (is_stdout_) return absl::OkStatus();
  if (close(fd_) != 0) {
    int err = errno;
    fd_ = -1;
    if (!in_place_) unlink(tmp_path_.c_str());
    return ErrnoError(err, "cannot write output", path_);
  }
  fd_ = -1;
  if (in_place_) return absl::OkStatus();
  if (rename(tmp_path_.c_str(), path_.c_str()) != 0) {
    int err = errno;
    unlink(tmp_path_.c_str());
    return ErrnoError(err, "cannot rename output into place", path_);
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------- MappedFile

absl::StatusOr<std::unique_ptr<MappedFile>> MappedFile::Open(std::string_view path) {
  std::unique_ptr<MappedFile> m(new MappedFile());
  m->path_ = std::string(path);
  int fd = open(m->path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError(errno, "cannot open", m->path_);
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return absl::InvalidArgumentError(absl::StrCat("not a regular file, ", m->path_));
  }
  m->size_ = static_cast<size_t>(st.st_size);
  if (m->size_ > 0) {
    void* p = mmap(nullptr, m->size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      int err = errno;
      close(fd);
      return ErrnoError(err, "cannot map", m->path_);
    }
    m->data_ = static_cast<const uint8_t*>(p);
  }
  close(fd);
  return m;
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) munmap(const_cast<uint8_t*>(data_), size_);
}

bool DataOnStdout(std::string_view output) { return output.empty() || output == "-"; }

absl::Status WriteJsonReport(std::string_view data_output, std::string_view json) {
  std::string text(json);
  if (text.empty() || text.back() != '\n') text.push_back('\n');
  FILE* f = DataOnStdout(data_output) ? stderr : stdout;
  if (fwrite(text.data(), 1, text.size(), f) != text.size() || fflush(f) != 0) {
    if (f == stdout) return BrokenPipeError();
  }
  return absl::OkStatus();
}

}  // namespace llmtk
