// createTorrent(dir, opts, onProgress) -> Promise<Buffer>: lt::create_torrent + lt::set_piece_hashes
// on libtorrent's hashing threads (one per core), driven from a background thread, never the JS thread.
// With opts.fileHashes: Promise<{torrent, files}>, piece and whole-file SHA-1s from one read (one_pass_hash).
#include <napi.h>
#include <libtorrent/create_torrent.hpp>
#include <libtorrent/bencode.hpp>
#include <libtorrent/settings_pack.hpp>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <iterator>
#include <thread>

#include "addon.h"
#include "background.h"
#include "errors.h"
#include "one_pass_hash.h"

namespace cs {
namespace {

struct CreateOptions {
  std::string dir;
  int pieceSize = 0;  // 0: libtorrent chooses
  bool priv = true;
  std::vector<std::string> trackers;
  std::string source, comment, creator;
  bool fileHashes = false;  // also each file's SHA-1, from the same read
};

std::string ParentPath(const std::string& p) {
  std::string s = p;
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  auto slash = s.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return s.substr(0, slash);
}

class CreateTorrentJob : public BackgroundJob {
 public:
  CreateTorrentJob(CreateOptions opts, Napi::Function onProgress) : opts_(std::move(opts)) {
    if (!onProgress.IsEmpty()) onProgress_ = Napi::Persistent(onProgress);
  }

  void Run(const std::function<void()>& progress) override {
    struct stat st {};
    if (::stat(opts_.dir.c_str(), &st) != 0) {
      err_ = InfoFor(lt::error_code(errno, boost::system::generic_category()), opts_.dir);
      return;
    }
    try {
      lt::file_storage fs;
      lt::add_files(fs, opts_.dir);
      if (fs.num_files() == 0) {
        err_ = {"EMPTY", opts_.dir + ": there are no files to put in the torrent"};
        return;
      }
      lt::create_torrent ct(fs, opts_.pieceSize, lt::create_torrent::v1_only);
      ct.set_priv(opts_.priv);
      int tier = 0;
      for (const auto& url : opts_.trackers) ct.add_tracker(url, tier++);
      if (!opts_.comment.empty()) ct.set_comment(opts_.comment.c_str());
      if (!opts_.creator.empty()) ct.set_creator(opts_.creator.c_str());
      total_ = ct.num_pieces();

      if (opts_.fileHashes) {
        err_ = HashPiecesAndFiles(ct, ParentPath(opts_.dir), files_, done_, [&] {
          if (!onProgress_.IsEmpty()) progress();
        });
        if (!err_.empty()) return;
      } else {
        lt::settings_pack sp;
        sp.set_int(lt::settings_pack::hashing_threads, static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
        lt::error_code ec;
        lt::set_piece_hashes(ct, ParentPath(opts_.dir), sp, [&](lt::piece_index_t) {
          ++done_;
          if (!onProgress_.IsEmpty()) progress();  // coalesced: the JS side sees the latest count
        }, ec);
        if (ec) {
          err_ = InfoFor(ec, opts_.dir);
          return;
        }
      }
      lt::entry e = ct.generate();
      // libtorrent has no setter for "source"; it belongs in the info dict (it changes the info hash,
      // which is what private trackers use it for), so it is added before bencoding.
      if (!opts_.source.empty()) e["info"]["source"] = opts_.source;
      lt::bencode(std::back_inserter(out_), e);
    } catch (const lt::system_error& ex) {
      err_ = InfoFor(ex.code(), opts_.dir);
    } catch (const std::exception& ex) {
      err_ = {"INVALID_ARGUMENT", opts_.dir + ": " + ex.what()};
    }
  }

  void OnProgress(Napi::Env env) override {
    if (onProgress_.IsEmpty()) return;
    onProgress_.Call({Napi::Number::New(env, done_.load()), Napi::Number::New(env, total_)});
  }

  void OnDone(Napi::Env env, Napi::Promise::Deferred& deferred) override {
    if (!err_.empty()) {
      deferred.Reject(MakeError(env, err_).Value());
      return;
    }
    OnProgress(env);
    Napi::Buffer<char> torrent = Napi::Buffer<char>::Copy(env, out_.data(), out_.size());
    if (!opts_.fileHashes) {
      deferred.Resolve(torrent);
      return;
    }
    // {torrent, files: [{path, size, sha1}]} with paths as in the torrent
    Napi::Array files = Napi::Array::New(env, files_.size());
    for (size_t i = 0; i < files_.size(); ++i) {
      Napi::Object f = Napi::Object::New(env);
      f.Set("path", files_[i].path);
      f.Set("size", Napi::Number::New(env, static_cast<double>(files_[i].size)));
      f.Set("sha1", Napi::Buffer<char>::Copy(env, reinterpret_cast<const char*>(files_[i].sha1), 20));
      files.Set(static_cast<uint32_t>(i), f);
    }
    Napi::Object o = Napi::Object::New(env);
    o.Set("torrent", torrent);
    o.Set("files", files);
    deferred.Resolve(o);
  }

 private:
  CreateOptions opts_;
  Napi::FunctionReference onProgress_;
  std::vector<char> out_;
  std::vector<WholeFileHash> files_;
  std::atomic<int> done_{0};
  int total_ = 0;
  ErrorInfo err_;
};

std::string OptString(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string();
}

}  // namespace

Napi::Value CreateTorrent(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw MakeError(env, "INVALID_ARGUMENT", "createTorrent expects a folder path");
  CreateOptions opts;
  opts.dir = info[0].As<Napi::String>().Utf8Value();
  if (info.Length() > 1 && info[1].IsObject()) {
    Napi::Object o = info[1].As<Napi::Object>();
    Napi::Value ps = o.Get("pieceSize");
    if (ps.IsNumber()) {
      int64_t n = ps.As<Napi::Number>().Int64Value();
      if (n < 16384 || n > (1ll << 28) || (n & (n - 1)) != 0)
        throw MakeError(env, "INVALID_ARGUMENT", "pieceSize must be a power of two between 16 KiB and 256 MiB");
      opts.pieceSize = static_cast<int>(n);
    }
    Napi::Value pv = o.Get("private");
    if (pv.IsBoolean()) opts.priv = pv.As<Napi::Boolean>().Value();
    Napi::Value tr = o.Get("trackers");
    if (tr.IsArray()) {
      Napi::Array a = tr.As<Napi::Array>();
      for (uint32_t i = 0; i < a.Length(); ++i) {
        Napi::Value u = a.Get(i);
        if (!u.IsString()) throw MakeError(env, "INVALID_ARGUMENT", "trackers must be strings");
        opts.trackers.push_back(u.As<Napi::String>().Utf8Value());
      }
    }
    opts.source = OptString(o, "source");
    opts.comment = OptString(o, "comment");
    opts.creator = OptString(o, "creator");
    opts.fileHashes = o.Get("fileHashes").ToBoolean();
  }
  Napi::Function onProgress;
  if (info.Length() > 2 && info[2].IsFunction()) onProgress = info[2].As<Napi::Function>();
  return StartBackgroundJob(env, std::make_unique<CreateTorrentJob>(std::move(opts), onProgress), "cineswarm.createTorrent");
}

}  // namespace cs
