// The `posix` disk backend: libtorrent's posix_disk_io, with the piece hash checks moved to a
// thread of their own. posix_disk_io runs every job on the network thread, and a piece check there
// is sixteen file opens, a copy out of the page cache and SHA-1 over 256 KiB or more: on an agent
// that also hashes its assets for the packing list the network thread was busy 86 % of a download
// (perf, 4 GiB) and set the pace. Here it only receives and writes; this thread reads each
// finished piece back from the files (keeping them open while it has work) and hashes it.
//
// Blocks received are written here too, on the network thread as posix_disk_io does, but into
// files kept open: posix_disk_io opens, seeks and closes the file around every 16 KiB block (fopen,
// fwrite, fclose), which was a tenth of a download's CPU (perf, 4 GiB `cineswarm get`).
//
// Every other job goes to posix_disk_io unchanged. Writes are synchronous, so when libtorrent asks
// for a piece's hash its blocks are in the files, or their writes have failed and the failure
// reaches libtorrent before the result (see Run). A job that changes the files (move, rename,
// delete, release, stop, priorities, a check) or clears a piece first waits for the checks under
// way and closes the files written here. What this file does not handle goes to posix_disk_io as
// before: v2 hashes, torrents with a file not downloaded (its pieces' edges live in a part file) and
// torrents renamed or moved.
#include <libtorrent/disk_interface.hpp>
#include <libtorrent/file_storage.hpp>
#include <libtorrent/hasher.hpp>
#include <libtorrent/io_context.hpp>
#include <libtorrent/posix_disk_io.hpp>
#include <libtorrent/storage_defs.hpp>
#include <libtorrent/error_code.hpp>
#include <libtorrent/settings_pack.hpp>
#include <libtorrent/performance_counters.hpp>
#include <libtorrent/download_priority.hpp>
#include <boost/asio/post.hpp>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <fcntl.h>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <unistd.h>
#include <vector>

#include "addon.h"

namespace cs {

namespace {

using HashHandler = std::function<void(lt::piece_index_t, lt::sha1_hash const&, lt::storage_error const&)>;

struct Layout {
  lt::file_storage files;
  std::string savePath;
};

// Whether a file is set not to download: then posix_disk_io keeps the edges of its pieces in a part file.
bool AnySkipped(lt::aux::vector<lt::download_priority_t, lt::file_index_t> const& prio) {
  for (auto const p : prio)
    if (p == lt::dont_download) return true;
  return false;
}

// Closes every file handle of `open` (keyed by file index or path) and forgets them.
template <class Key>
void CloseAll(std::map<Key, int>& open) {
  for (auto& f : open) ::close(f.second);
  open.clear();
}

// A failed disk operation as posix_disk_io reports it: the error, the file and what was being done.
void SetError(lt::storage_error& error, lt::error_code ec, lt::file_index_t file, lt::operation_t op) {
  error.ec = ec;
  error.file(file);
  error.operation = op;
}

struct HashJob {
  std::shared_ptr<const Layout> layout;
  lt::piece_index_t piece;
  HashHandler handler;
};

class PosixHashingDiskIo final : public lt::disk_interface {
 public:
  PosixHashingDiskIo(lt::io_context& ios, lt::settings_interface const& sett, lt::counters& cnt)
      : ios_(ios), counters_(cnt), inner_(lt::posix_disk_io_constructor(ios, sett, cnt)), thread_([this] { Run(); }) {}

  ~PosixHashingDiskIo() override {
    Stop();
    for (auto& s : storages_) CloseAll(s.second.files);
  }

  lt::storage_holder new_torrent(lt::storage_params const& p, std::shared_ptr<void> const& torrent) override {
    lt::storage_holder inner = inner_->new_torrent(p, torrent);
    lt::storage_index_t const idx = inner;
    Storage s;
    s.inner = std::move(inner);
    if (!AnySkipped(p.priorities)) {
      auto layout = std::make_shared<Layout>();
      layout->files = p.mapped_files ? *p.mapped_files : p.files;
      layout->savePath = p.path;
      s.layout = std::move(layout);
    }
    storages_[idx] = std::move(s);
    return lt::storage_holder(idx, *this);
  }

  void remove_torrent(lt::storage_index_t idx) override {
    Drain();
    auto it = storages_.find(idx);
    if (it == storages_.end()) return;
    CloseFiles(idx, it->second);
    storages_.erase(it);  // its inner holder tells posix_disk_io
  }

  void async_read(lt::storage_index_t st, lt::peer_request const& r, std::function<void(lt::disk_buffer_holder, lt::storage_error const&)> h,
                  lt::disk_job_flags_t flags) override {
    inner_->async_read(st, r, std::move(h), flags);
  }

  bool async_write(lt::storage_index_t st, lt::peer_request const& r, char const* buf, std::shared_ptr<lt::disk_observer> o,
                   std::function<void(lt::storage_error const&)> h, lt::disk_job_flags_t flags) override {
    auto it = storages_.find(st);
    if (it == storages_.end() || !it->second.layout) return inner_->async_write(st, r, buf, std::move(o), std::move(h), flags);
    auto const start = std::chrono::steady_clock::now();
    lt::storage_error error;
    WriteBlock(it->second, r, buf, error);
    if (!error.ec) {
      auto const us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count();
      counters_.inc_stats_counter(lt::counters::num_blocks_written);
      counters_.inc_stats_counter(lt::counters::num_write_ops);
      counters_.inc_stats_counter(lt::counters::disk_write_time, us);
      counters_.inc_stats_counter(lt::counters::disk_job_time, us);
    }
    boost::asio::post(ios_, [h = std::move(h), error] { h(error); });
    return false;  // written already: never a reason for the peer to wait
  }

  void async_hash(lt::storage_index_t st, lt::piece_index_t piece, lt::span<lt::sha256_hash> v2, lt::disk_job_flags_t flags,
                  HashHandler h) override {
    auto it = storages_.find(st);
    if (v2.empty() && (flags & lt::disk_interface::v1_hash) && it != storages_.end() && it->second.layout) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!stopping_) {
        jobs_.push_back(HashJob{it->second.layout, piece, std::move(h)});
        ++pending_;
        wake_.notify_one();
        return;
      }
    }
    inner_->async_hash(st, piece, v2, flags, std::move(h));
  }

  void async_hash2(lt::storage_index_t st, lt::piece_index_t piece, int offset, lt::disk_job_flags_t flags,
                   std::function<void(lt::piece_index_t, lt::sha256_hash const&, lt::storage_error const&)> h) override {
    inner_->async_hash2(st, piece, offset, flags, std::move(h));
  }

  void async_move_storage(lt::storage_index_t st, std::string p, lt::move_flags_t flags,
                          std::function<void(lt::status_t, std::string const&, lt::storage_error const&)> h) override {
    Unmanage(st);
    inner_->async_move_storage(st, std::move(p), flags, std::move(h));
  }

  void async_release_files(lt::storage_index_t st, std::function<void()> h) override {
    Release(st);
    inner_->async_release_files(st, std::move(h));
  }

  void async_check_files(lt::storage_index_t st, lt::add_torrent_params const* rd, lt::aux::vector<std::string, lt::file_index_t> links,
                         std::function<void(lt::status_t, lt::storage_error const&)> h) override {
    Release(st);
    inner_->async_check_files(st, rd, std::move(links), std::move(h));
  }

  void async_stop_torrent(lt::storage_index_t st, std::function<void()> h) override {
    Release(st);
    inner_->async_stop_torrent(st, std::move(h));
  }

  void async_rename_file(lt::storage_index_t st, lt::file_index_t index, std::string name,
                         std::function<void(std::string const&, lt::file_index_t, lt::storage_error const&)> h) override {
    Unmanage(st);
    inner_->async_rename_file(st, index, std::move(name), std::move(h));
  }

  void async_delete_files(lt::storage_index_t st, lt::remove_flags_t options, std::function<void(lt::storage_error const&)> h) override {
    Release(st);
    inner_->async_delete_files(st, options, std::move(h));
  }

  void async_set_file_priority(lt::storage_index_t st, lt::aux::vector<lt::download_priority_t, lt::file_index_t> prio,
                               std::function<void(lt::storage_error const&, lt::aux::vector<lt::download_priority_t, lt::file_index_t>)> h) override {
    if (AnySkipped(prio)) Unmanage(st);
    else Release(st);
    inner_->async_set_file_priority(st, std::move(prio), std::move(h));
  }

  // libtorrent clears a piece after a failed write and expects every job on it done when the
  // handler runs: a check still under way would otherwise fail later and blame the peer that sent
  // it (seen with a full disk: the only seed banned).
  void async_clear_piece(lt::storage_index_t st, lt::piece_index_t index, std::function<void(lt::piece_index_t)> h) override {
    Drain();
    inner_->async_clear_piece(st, index, std::move(h));
  }

  void update_stats_counters(lt::counters& c) const override { inner_->update_stats_counters(c); }
  std::vector<lt::open_file_state> get_status(lt::storage_index_t st) const override { return inner_->get_status(st); }

  void abort(bool wait) override {
    Stop();
    for (auto& s : storages_) CloseFiles(s.first, s.second);
    inner_->abort(wait);
  }

  void submit_jobs() override { inner_->submit_jobs(); }
  void settings_updated() override { inner_->settings_updated(); }

 private:
  struct Storage {
    lt::storage_holder inner;
    std::shared_ptr<const Layout> layout;  // null: posix_disk_io writes and hashes this torrent's pieces
    std::map<lt::file_index_t, int> files;  // written here, open for writing (network thread)
    bool written = false;                   // since posix_disk_io last forgot what it knew of the files
  };

  // At most this many files of one torrent open for writing; a DCP has a handful.
  static constexpr std::size_t kMaxOpen = 64;

  // From now on posix_disk_io writes and hashes this torrent's pieces (its files are about to change).
  void Unmanage(lt::storage_index_t st) {
    if (Storage* s = Release(st)) s->layout.reset();
  }

  // Before a job that reads or changes the files as a whole: no check under way, none of them open.
  // The torrent's entry, if it has one.
  Storage* Release(lt::storage_index_t st) {
    Drain();
    auto it = storages_.find(st);
    if (it == storages_.end()) return nullptr;
    CloseFiles(st, it->second);
    return &it->second;
  }

  // posix_disk_io caches the files' sizes and never learns of writes made here: after them its
  // release (which clears that cache, and opens nothing) comes before it looks at the files again.
  // libtorrent releases the files before a recheck itself; this holds for any other check too.
  void CloseFiles(lt::storage_index_t st, Storage& s) {
    CloseAll(s.files);
    if (s.written) inner_->async_release_files(st, {});
    s.written = false;
  }

  int WriteFile(Storage& s, lt::file_index_t index, lt::storage_error& error) {
    auto it = s.files.find(index);
    if (it != s.files.end()) return it->second;
    if (s.files.size() >= kMaxOpen) CloseAll(s.files);
    std::string const path = s.layout->files.file_path(index, s.layout->savePath);
    int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
      // as posix_disk_io: the first block of a file makes its folders and the file
      std::error_code mk;
      std::filesystem::create_directories(std::filesystem::path(path).parent_path(), mk);
      if (mk) {
        SetError(error, lt::error_code(mk.value(), lt::generic_category()), index, lt::operation_t::mkdir);
        return -1;
      }
      fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    }
    if (fd < 0) {
      SetError(error, lt::error_code(errno, lt::generic_category()), index, lt::operation_t::file_open);
      return -1;
    }
    s.files.emplace(index, fd);
    return fd;
  }

  // One block into the files it spans (pad files take nothing); errors as posix_disk_io reports them.
  void WriteBlock(Storage& s, lt::peer_request const& r, char const* buf, lt::storage_error& error) {
    lt::file_storage const& fs = s.layout->files;
    s.written = true;
    for (lt::file_slice const& slice : fs.map_block(r.piece, r.start, r.length)) {
      char const* p = buf;
      buf += slice.size;
      if (fs.pad_file_at(slice.file_index)) continue;
      int const fd = WriteFile(s, slice.file_index, error);
      if (fd < 0) return;
      std::int64_t off = slice.offset;
      std::int64_t left = slice.size;
      while (left > 0) {
        ssize_t const n = ::pwrite(fd, p, static_cast<std::size_t>(left), off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
          SetError(error, lt::error_code(n < 0 ? errno : EIO, lt::generic_category()), slice.file_index, lt::operation_t::file_write);
          return;
        }
        p += n;
        off += n;
        left -= n;
      }
    }
  }

  // Network thread: returns once every hash check handed to this thread is done and its files closed.
  void Drain() {
    std::unique_lock<std::mutex> lock(mutex_);
    idle_.wait(lock, [this] { return pending_ == 0; });
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return;
      stopping_ = true;
      wake_.notify_one();
    }
    if (thread_.joinable()) thread_.join();
  }

  void Run() {
    std::map<std::string, int> open;  // this thread's file handles, closed whenever it runs out of work
    std::vector<char> buf(4 * lt::default_block_size);
    for (;;) {
      HashJob job;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        if (jobs_.empty()) {
          CloseAll(open);
          if (pending_ == 0) idle_.notify_all();
          wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
          if (jobs_.empty()) return;  // stopping and nothing left
        }
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      lt::storage_error error;
      lt::sha1_hash const hash = HashPiece(*job.layout, job.piece, open, buf, error);
      lt::piece_index_t const piece = job.piece;
      // Handed over twice: what the network thread posts while it runs a handler (the completion of
      // a failed write, say) reaches the queue only when that handler returns, and a post from this
      // thread could overtake it. A check of a piece whose last write failed then came back before
      // the failure, and libtorrent blamed the peer for the zeros it read (a full disk banned the
      // only seed). Posted again from the network thread, the result comes after them, as with
      // posix_disk_io, which posts everything from there.
      lt::io_context& ios = ios_;
      boost::asio::post(ios, [&ios, h = std::move(job.handler), piece, hash, error]() mutable {
        boost::asio::post(ios, [h = std::move(h), piece, hash, error] { h(piece, hash, error); });
      });
      std::lock_guard<std::mutex> lock(mutex_);
      --pending_;
    }
  }

  // The piece as the files hold it now; pad files count as zeros. A file that ends before the piece
  // does is a disk error (file_too_short, as posix_disk_io reports it), not a failed check: the
  // blocks missing there were never written (a full disk), and a failed check would blame the peer.
  static lt::sha1_hash HashPiece(Layout const& layout, lt::piece_index_t piece, std::map<std::string, int>& open, std::vector<char>& buf,
                                 lt::storage_error& error) {
    lt::hasher h;
    auto fail = [&](lt::error_code ec, lt::file_index_t file, lt::operation_t op) {
      SetError(error, ec, file, op);
      return h.final();
    };
    lt::file_storage const& fs = layout.files;
    for (lt::file_slice const& slice : fs.map_block(piece, 0, fs.piece_size(piece))) {
      if (fs.pad_file_at(slice.file_index)) {
        std::vector<char> zeros(static_cast<std::size_t>(slice.size), 0);
        h.update(zeros);
        continue;
      }
      std::string const path = fs.file_path(slice.file_index, layout.savePath);
      auto it = open.find(path);
      if (it == open.end()) {
        // No access times: each read after a write would otherwise update the inode (relatime).
        int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOATIME);
        if (fd < 0 && errno == EPERM) fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);  // not the files' owner
        if (fd < 0) return fail(lt::error_code(errno, lt::system_category()), slice.file_index, lt::operation_t::file_open);
        it = open.emplace(path, fd).first;
      }
      std::int64_t off = slice.offset;
      std::int64_t left = slice.size;
      while (left > 0) {
        std::size_t const want = static_cast<std::size_t>(std::min<std::int64_t>(left, static_cast<std::int64_t>(buf.size())));
        ssize_t const got = ::pread(it->second, buf.data(), want, off);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return fail(lt::error_code(errno, lt::system_category()), slice.file_index, lt::operation_t::file_read);
        if (got == 0) return fail(lt::error_code(lt::errors::file_too_short, lt::libtorrent_category()), slice.file_index, lt::operation_t::file_read);
        h.update(buf.data(), static_cast<int>(got));
        off += got;
        left -= got;
      }
    }
    return h.final();
  }

  lt::io_context& ios_;
  lt::counters& counters_;
  std::unique_ptr<lt::disk_interface> inner_;
  std::map<lt::storage_index_t, Storage> storages_;  // network thread only

  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::deque<HashJob> jobs_;
  int pending_ = 0;
  bool stopping_ = false;
  std::thread thread_;  // last: started once everything above exists
};

}  // namespace

std::unique_ptr<lt::disk_interface> PosixHashingDiskIoConstructor(lt::io_context& ios, lt::settings_interface const& sett, lt::counters& cnt) {
  return std::make_unique<PosixHashingDiskIo>(ios, sett, cnt);
}

}  // namespace cs
