// Long native work on its own thread (not libuv's small shared pool, which node also needs for
// file system calls): progress and the result come back to the JS thread through a ThreadSafeFunction.
#pragma once

#include <napi.h>

#include <functional>
#include <memory>

namespace cs {

class BackgroundJob {
 public:
  virtual ~BackgroundJob() = default;
  // Worker thread. Call `progress()` whenever there is news; calls are coalesced.
  virtual void Run(const std::function<void()>& progress) = 0;
  // JS thread: report the latest progress (optional).
  virtual void OnProgress(Napi::Env) {}
  // JS thread, once, after Run returned: settle the promise.
  virtual void OnDone(Napi::Env env, Napi::Promise::Deferred& deferred) = 0;
};

// Starts `job` on a new thread and returns the promise it settles.
Napi::Promise StartBackgroundJob(Napi::Env env, std::unique_ptr<BackgroundJob> job, const char* name);

}  // namespace cs
