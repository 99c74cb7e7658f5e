// BackgroundJob runner: one detached thread per job, one ThreadSafeFunction to talk back.
#include "background.h"

#include <atomic>
#include <thread>

#include "errors.h"

namespace cs {
namespace {

struct JobContext {
  explicit JobContext(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}
  std::unique_ptr<BackgroundJob> job;  // reset on the JS thread: it may hold JS references
  Napi::Promise::Deferred deferred;
  Napi::ThreadSafeFunction tsfn;
  std::atomic<bool> progressQueued{false};
};

}  // namespace

Napi::Promise StartBackgroundJob(Napi::Env env, std::unique_ptr<BackgroundJob> job, const char* name) {
  auto ctx = std::make_shared<JobContext>(env);
  ctx->job = std::move(job);
  ctx->tsfn = Napi::ThreadSafeFunction::New(env, Napi::Function(), name, 0, 1);
  Napi::Promise promise = ctx->deferred.Promise();
  std::thread([ctx] {
    auto progress = [ctx] {
      if (ctx->progressQueued.exchange(true)) return;
      ctx->tsfn.NonBlockingCall([ctx](Napi::Env env, Napi::Function) {
        ctx->progressQueued = false;
        if (!ctx->job) return;
        Napi::HandleScope scope(env);
        ctx->job->OnProgress(env);
      });
    };
    try {
      ctx->job->Run(progress);
    } catch (...) {
      // Run reports failures through its own state; nothing may escape a thread.
    }
    ctx->tsfn.BlockingCall([ctx](Napi::Env env, Napi::Function) {
      Napi::HandleScope scope(env);
      try {
        ctx->job->OnDone(env, ctx->deferred);
      } catch (const Napi::Error& e) {
        ctx->deferred.Reject(e.Value());
      }
      ctx->job.reset();
    });
    ctx->tsfn.Release();
  }).detach();
  return promise;
}

}  // namespace cs
