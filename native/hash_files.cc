// hashFiles(paths, concurrency, onProgress) -> Promise<[{size, sha1: Buffer}]>: SHA-1 of whole
// files with OpenSSL, large sequential reads, one worker thread per file, all off the JS thread.
#include <napi.h>
#include <openssl/evp.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "addon.h"
#include "background.h"
#include "errors.h"

namespace cs {
namespace {

constexpr size_t kBlock = 8u << 20;  // big reads keep syscalls and EVP calls negligible

ErrorInfo ErrnoInfo(int err, const std::string& path) {
  lt::error_code ec(err, boost::system::generic_category());
  return InfoFor(ec, path);
}

struct FileResult {
  uint64_t size = 0;
  unsigned char digest[20] = {};
};

// One file, read in big blocks. With `overlap`, a reader thread fills one buffer while this
// thread hashes the other, which pays when fewer files than cores are being hashed.
ErrorInfo HashOne(const std::string& path, bool overlap, std::atomic<uint64_t>& done,
                  const std::atomic<bool>& stop, FileResult& out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoInfo(errno, path);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    int e = S_ISDIR(st.st_mode) ? EISDIR : errno;
    ::close(fd);
    return ErrnoInfo(e ? e : EINVAL, path);
  }
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha1(), nullptr);

  ErrorInfo err;
  uint64_t total = 0;
  // read() until the buffer is full or EOF; returns bytes read, -1 on error.
  auto fill = [&](char* buf) -> ssize_t {
    size_t got = 0;
    while (got < kBlock) {
      ssize_t n = ::read(fd, buf + got, kBlock - got);
      if (n < 0) {
        if (errno == EINTR) continue;
        return -1;
      }
      if (n == 0) break;
      got += static_cast<size_t>(n);
    }
    return static_cast<ssize_t>(got);
  };

  if (!overlap) {
    std::vector<char> buf(kBlock);
    for (;;) {
      if (stop.load()) break;
      ssize_t n = fill(buf.data());
      if (n < 0) { err = ErrnoInfo(errno, path); break; }
      if (n == 0) break;
      EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(n));
      total += static_cast<uint64_t>(n);
      done += static_cast<uint64_t>(n);
    }
  } else {
    // Two buffers handed back and forth: the reader fills slot i while the hasher digests slot i^1.
    std::vector<char> bufs[2] = {std::vector<char>(kBlock), std::vector<char>(kBlock)};
    ssize_t len[2] = {-2, -2};  // -2 = empty slot, -1 = read error, 0 = EOF
    int readErrno = 0;
    std::mutex m;
    std::condition_variable cv;
    bool quit = false;
    std::thread reader([&] {
      for (int i = 0;; i ^= 1) {
        {
          std::unique_lock<std::mutex> lk(m);
          cv.wait(lk, [&] { return len[i] == -2 || quit; });
          if (quit) return;
        }
        ssize_t n = stop.load() ? 0 : fill(bufs[i].data());
        int e = errno;
        {
          std::lock_guard<std::mutex> lk(m);
          len[i] = n;
          if (n < 0) readErrno = e;
        }
        cv.notify_all();
        if (n <= 0) return;
      }
    });
    for (int i = 0;; i ^= 1) {
      ssize_t n;
      {
        std::unique_lock<std::mutex> lk(m);
        cv.wait(lk, [&] { return len[i] != -2; });
        n = len[i];
      }
      if (n < 0) { err = ErrnoInfo(readErrno, path); break; }
      if (n == 0) break;
      EVP_DigestUpdate(ctx.get(), bufs[i].data(), static_cast<size_t>(n));
      total += static_cast<uint64_t>(n);
      done += static_cast<uint64_t>(n);
      {
        std::lock_guard<std::mutex> lk(m);
        len[i] = -2;
      }
      cv.notify_all();
    }
    {
      std::lock_guard<std::mutex> lk(m);
      quit = true;
    }
    cv.notify_all();
    reader.join();
  }
  ::close(fd);
  if (err.empty()) {
    unsigned int dlen = 0;
    EVP_DigestFinal_ex(ctx.get(), out.digest, &dlen);
    out.size = total;
  }
  return err;
}

class HashFilesJob : public BackgroundJob {
 public:
  HashFilesJob(std::vector<std::string> paths, unsigned concurrency, Napi::Function onProgress)
      : paths_(std::move(paths)), concurrency_(concurrency), results_(paths_.size()) {
    if (!onProgress.IsEmpty()) onProgress_ = Napi::Persistent(onProgress);
  }

  void Run(const std::function<void()>& progress) override {
    for (const auto& p : paths_) {
      struct stat st {};
      if (::stat(p.c_str(), &st) != 0) { err_ = ErrnoInfo(errno, p); return; }
      if (!S_ISREG(st.st_mode)) { err_ = ErrnoInfo(S_ISDIR(st.st_mode) ? EISDIR : EINVAL, p); return; }
      total_ += static_cast<uint64_t>(st.st_size);
    }
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    const unsigned nthreads = std::max(1u, std::min<unsigned>(concurrency_, static_cast<unsigned>(paths_.size())));
    const bool overlap = nthreads < cores;
    std::atomic<size_t> next{0};
    std::atomic<bool> stop{false};
    unsigned running = nthreads;
    std::mutex m;
    std::condition_variable cv;
    std::vector<std::thread> threads;
    for (unsigned t = 0; t < nthreads; ++t) {
      threads.emplace_back([&] {
        for (size_t i; !stop.load() && (i = next++) < paths_.size();) {
          ErrorInfo e = HashOne(paths_[i], overlap, done_, stop, results_[i]);
          if (!e.empty()) {
            std::lock_guard<std::mutex> lk(m);
            if (err_.empty()) err_ = e;
            stop = true;
          }
        }
        {
          std::lock_guard<std::mutex> lk(m);
          --running;
        }
        cv.notify_all();
      });
    }
    {
      std::unique_lock<std::mutex> lk(m);
      while (running > 0) {
        cv.wait_for(lk, std::chrono::milliseconds(200));
        if (!onProgress_.IsEmpty()) progress();
      }
    }
    for (auto& th : threads) th.join();
  }

  void OnProgress(Napi::Env env) override {
    if (onProgress_.IsEmpty()) return;
    onProgress_.Call({Napi::Number::New(env, static_cast<double>(done_.load())), Napi::Number::New(env, static_cast<double>(total_))});
  }

  void OnDone(Napi::Env env, Napi::Promise::Deferred& deferred) override {
    if (!err_.empty()) {
      deferred.Reject(MakeError(env, err_).Value());
      return;
    }
    OnProgress(env);  // a last report at 100%
    Napi::Array arr = Napi::Array::New(env, results_.size());
    for (size_t i = 0; i < results_.size(); ++i) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("size", Napi::Number::New(env, static_cast<double>(results_[i].size)));
      o.Set("sha1", Napi::Buffer<unsigned char>::Copy(env, results_[i].digest, 20));
      arr.Set(i, o);
    }
    deferred.Resolve(arr);
  }

 private:
  std::vector<std::string> paths_;
  unsigned concurrency_;
  Napi::FunctionReference onProgress_;
  std::vector<FileResult> results_;
  uint64_t total_ = 0;
  std::atomic<uint64_t> done_{0};
  ErrorInfo err_;
};

}  // namespace

Napi::Value HashFiles(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArray()) throw MakeError(env, "INVALID_ARGUMENT", "hashFiles expects an array of file paths");
  Napi::Array arr = info[0].As<Napi::Array>();
  std::vector<std::string> paths;
  for (uint32_t i = 0; i < arr.Length(); ++i) {
    Napi::Value v = arr.Get(i);
    if (!v.IsString()) throw MakeError(env, "INVALID_ARGUMENT", "hashFiles: every path must be a string");
    paths.push_back(v.As<Napi::String>().Utf8Value());
  }
  unsigned concurrency = std::max(1u, std::thread::hardware_concurrency());
  if (info.Length() > 1 && info[1].IsNumber()) {
    int c = info[1].As<Napi::Number>().Int32Value();
    if (c < 1) throw MakeError(env, "INVALID_ARGUMENT", "hashFiles: concurrency must be at least 1");
    concurrency = static_cast<unsigned>(c);
  }
  Napi::Function onProgress;
  if (info.Length() > 2 && info[2].IsFunction()) onProgress = info[2].As<Napi::Function>();
  return StartBackgroundJob(env, std::make_unique<HashFilesJob>(std::move(paths), concurrency, onProgress), "cineswarm.hashFiles");
}

}  // namespace cs
