// Implementation of OrderedParallelMap; included by base/parallel.h only.
#ifndef LLMTK_LIB_BASE_PARALLEL_INL_H_
#define LLMTK_LIB_BASE_PARALLEL_INL_H_

#include <map>
#include <memory>

namespace llmtk {

template <typename Batch, typename Result>
absl::Status OrderedParallelMap(int threads,
                                const std::function<absl::StatusOr<bool>(Batch*)>& produce,
                                const std::function<absl::Status(Batch&, Result*)>& work,
                                const std::function<absl::Status(Result&)>& consume) {
  threads = ResolveThreads(threads);
  if (threads <= 1) {
    for (;;) {
      Batch batch;
      ASSIGN_OR_RETURN(bool more, produce(&batch));
      if (!more) return absl::OkStatus();
      Result result;
      RETURN_IF_ERROR(work(batch, &result));
      RETURN_IF_ERROR(consume(result));
    }
  }

  struct Slot {
    Batch batch;
    Result result;
    absl::Status status;
    bool done = false;
  };
  std::mutex mu;
  std::condition_variable cv;
  std::map<uint64_t, std::unique_ptr<Slot>> slots;  // in flight, by sequence
  ThreadPool pool(threads);
  const size_t max_in_flight = 2 * static_cast<size_t>(threads);
  uint64_t next_seq = 0, next_emit = 0;
  bool produced_all = false;
  absl::Status status;

  // Emits every finished result at the head of the order.
  auto drain = [&](bool wait_for_one) -> absl::Status {
    std::unique_lock<std::mutex> lock(mu);
    for (;;) {
      auto it = slots.find(next_emit);
      if (it == slots.end() || !it->second->done) {
        if (!wait_for_one || slots.empty()) return absl::OkStatus();
        cv.wait(lock);
        continue;
      }
      std::unique_ptr<Slot> slot = std::move(it->second);
      slots.erase(it);
      ++next_emit;
      lock.unlock();
      absl::Status s = slot->status.ok() ? consume(slot->result) : slot->status;
      lock.lock();
      if (!s.ok()) return s;
      wait_for_one = false;  // made progress; keep emitting what is ready
    }
  };

  while (status.ok()) {
    {
      std::unique_lock<std::mutex> lock(mu);
      if (slots.size() >= max_in_flight) {
        lock.unlock();
        status = drain(true);
        continue;
      }
    }
    if (produced_all) {
      bool empty;
      {
        std::lock_guard<std::mutex> lock(mu);
        empty = slots.empty();
      }
      if (empty) break;
      status = drain(true);
      continue;
    }
    auto slot = std::make_unique<Slot>();
    auto more = produce(&slot->batch);
    if (!more.ok()) {
      // Results before the failure still go out, then the error.
      while (status.ok()) {
        bool empty;
        {
          std::lock_guard<std::mutex> lock(mu);
          empty = slots.empty();
        }
        if (empty) break;
        status = drain(true);
      }
      if (status.ok()) status = more.status();
      break;
    }
    if (!*more) {
      produced_all = true;
      continue;
    }
    Slot* raw = slot.get();
    uint64_t seq = next_seq++;
    {
      std::lock_guard<std::mutex> lock(mu);
      slots.emplace(seq, std::move(slot));
    }
    pool.Schedule([raw, &work, &mu, &cv] {
      absl::Status s = work(raw->batch, &raw->result);
      std::lock_guard<std::mutex> lock(mu);
      raw->status = std::move(s);
      raw->done = true;
      cv.notify_all();
    });
    if (status.ok()) status = drain(false);
  }
  // On error, let in-flight work finish before the pool and slots go away.
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] {
      for (auto& [seq, s] : slots) {
        if (!s->done) return false;
      }
      return true;
    });
  }
  return status;
}

}  // namespace llmtk

#endif  // LLMTK_LIB_BASE_PARALLEL_INL_H_
