// HashPiecesAndFiles: the publisher's single read. Blocks read once are handed to two hashing
// threads through small bounded queues (so memory stays at a few blocks), one cutting the byte
// stream into pieces, one hashing each file whole.
#include "one_pass_hash.h"

#include <openssl/evp.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

namespace cs {
namespace {

constexpr size_t kBlock = 4u << 20;
constexpr size_t kQueued = 4;  // blocks in flight per hashing thread

struct Block {
  std::vector<char> data;
  int file = -1;      // index into the result files (-1: pad bytes, pieces only)
  bool last = false;  // the file's final block
};
using BlockPtr = std::shared_ptr<const Block>;

class Queue {
 public:
  void Push(BlockPtr b) {
    std::unique_lock<std::mutex> l(m_);
    cv_.wait(l, [&] { return q_.size() < kQueued || closed_; });
    q_.push_back(std::move(b));
    cv_.notify_all();
  }
  // nullptr once closed and drained
  BlockPtr Pop() {
    std::unique_lock<std::mutex> l(m_);
    cv_.wait(l, [&] { return !q_.empty() || closed_; });
    if (q_.empty()) return nullptr;
    BlockPtr b = std::move(q_.front());
    q_.pop_front();
    cv_.notify_all();
    return b;
  }
  void Close() {
    std::lock_guard<std::mutex> l(m_);
    closed_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<BlockPtr> q_;
  bool closed_ = false;
};

using Ctx = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;
Ctx NewSha1() {
  Ctx c(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(c.get(), EVP_sha1(), nullptr);
  return c;
}

}  // namespace

ErrorInfo HashPiecesAndFiles(lt::create_torrent& ct, const std::string& parent, std::vector<WholeFileHash>& files,
                             std::atomic<int>& piecesDone, const std::function<void()>& progress) {
  const lt::file_storage& fs = ct.files();
  const int64_t pieceLen = ct.piece_length();
  // The result list is complete before any thread starts: the file thread writes each digest in
  // place, so the reader must never grow (and so move) the vector under it.
  files.clear();
  for (lt::file_index_t i : fs.file_range()) {
    if (!fs.pad_file_at(i)) files.push_back({fs.file_path(i), static_cast<uint64_t>(fs.file_size(i)), {}});
  }
  Queue pieceQ, fileQ;

  std::thread pieceThread([&] {
    Ctx c = NewSha1();
    int64_t inPiece = 0;
    int piece = 0;
    auto finish = [&] {
      unsigned char d[20];
      EVP_DigestFinal_ex(c.get(), d, nullptr);
      ct.set_hash(lt::piece_index_t{piece++}, lt::sha1_hash(reinterpret_cast<const char*>(d)));
      EVP_DigestInit_ex(c.get(), EVP_sha1(), nullptr);
      inPiece = 0;
      ++piecesDone;
      progress();
    };
    while (BlockPtr b = pieceQ.Pop()) {
      const char* p = b->data.data();
      size_t left = b->data.size();
      while (left > 0) {
        size_t take = static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(left), pieceLen - inPiece));
        EVP_DigestUpdate(c.get(), p, take);
        p += take;
        left -= take;
        inPiece += static_cast<int64_t>(take);
        if (inPiece == pieceLen) finish();
      }
    }
    if (inPiece > 0) finish();  // the last, shorter piece
  });

  std::thread fileThread([&] {
    Ctx c = NewSha1();
    while (BlockPtr b = fileQ.Pop()) {
      EVP_DigestUpdate(c.get(), b->data.data(), b->data.size());
      if (b->last) {
        EVP_DigestFinal_ex(c.get(), files[static_cast<size_t>(b->file)].sha1, nullptr);
        EVP_DigestInit_ex(c.get(), EVP_sha1(), nullptr);
      }
    }
  });

  ErrorInfo err;
  int idx = -1;
  for (lt::file_index_t i : fs.file_range()) {
    const int64_t size = fs.file_size(i);
    if (fs.pad_file_at(i)) {
      for (int64_t left = size; left > 0;) {
        auto b = std::make_shared<Block>();
        b->data.assign(static_cast<size_t>(std::min<int64_t>(left, kBlock)), '\0');
        left -= static_cast<int64_t>(b->data.size());
        pieceQ.Push(b);
      }
      continue;
    }
    const std::string path = fs.file_path(i, parent);
    ++idx;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      err = InfoFor(lt::error_code(errno, boost::system::generic_category()), path);
      break;
    }
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    int64_t left = size;
    do {
      auto b = std::make_shared<Block>();
      b->file = idx;
      b->data.resize(static_cast<size_t>(std::min<int64_t>(left, kBlock)));
      size_t got = 0;
      int readErr = 0;
      while (got < b->data.size()) {
        ssize_t n = ::read(fd, b->data.data() + got, b->data.size() - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) readErr = errno;
        if (n <= 0) break;
        got += static_cast<size_t>(n);
      }
      if (readErr) {
        err = InfoFor(lt::error_code(readErr, boost::system::generic_category()), path);
        break;
      }
      if (got < b->data.size()) {
        // Shorter than when the file list was made: the folder changed under us.
        err = ErrorInfo{"FILE_CHANGED", path + " changed size while it was being hashed"};
        break;
      }
      left -= static_cast<int64_t>(got);
      b->last = left == 0;
      BlockPtr shared = b;
      pieceQ.Push(shared);
      fileQ.Push(shared);
    } while (left > 0);
    ::close(fd);
    if (!err.empty()) break;
  }
  pieceQ.Close();
  fileQ.Close();
  pieceThread.join();
  fileThread.join();
  return err;
}

}  // namespace cs
