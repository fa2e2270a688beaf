#include "lib/mix/plan.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace llmtk {
namespace {

// splitmix64: a fixed, documented generator, so orders are the same on every
// platform and standard library.
uint64_t Mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

class Rng {
 public:
  Rng(uint64_t seed, uint64_t a, uint64_t b, uint64_t c) : state_(Mix64(Mix64(Mix64(seed ^ Mix64(a)) ^ b) ^ c)) {}
  uint64_t Next() { return Mix64(state_++); }
  // Uniform in [0, n) without modulo bias (rejection).
  uint64_t Below(uint64_t n) {
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    for (;;) {
      const uint64_t x = Next();
      if (x < limit) return x % n;
    }
  }

 private:
  uint64_t state_;
};

// Salts that keep the streams of different purposes apart.
constexpr uint64_t kEpochSalt = 1, kWindowSalt = 2;

void Shuffle(std::vector<uint32_t>* v, size_t begin, size_t end, Rng* rng) {
  for (size_t i = end - begin; i > 1; --i) {
    const size_t j = rng->Below(i);
    std::swap((*v)[begin + i - 1], (*v)[begin + j]);
  }
}

// Orders `ids` (sorted, input order) per the mode; `perm` is the epoch's
// random permutation, already the order for kGlobal.
void OrderEpoch(std::vector<uint32_t>* ids, const PlanOptions& opts, uint64_t source, uint64_t epoch) {
  if (opts.shuffle != ShuffleMode::kWindow) return;
  Rng rng(opts.seed, source, epoch, kWindowSalt);
  const size_t w = static_cast<size_t>(std::max<uint64_t>(opts.window, 1));
  for (size_t b = 0; b < ids->size(); b += w) Shuffle(ids, b, std::min(ids->size(), b + w), &rng);
}

std::string Num(double v) { return absl::StrFormat("%.0f", v); }

}  // namespace

std::string_view MixUnitName(MixUnit u) {
  switch (u) {
    case MixUnit::kDocs: return "docs";
    case MixUnit::kBytes: return "bytes";
    case MixUnit::kTokens: return "tokens";
  }
  return "?";
}

namespace {

// Checks the sources and sets each one's available documents and units and
// its share (normalized weight).
absl::Status MeasureSources(const std::vector<PlanSourceInput>& sources, MixUnit unit, MixPlan* plan) {
  const size_t k = sources.size();
  plan->sources.resize(k);
  double weight_sum = 0;
  for (size_t i = 0; i < k; ++i) {
    const PlanSourceInput& s = sources[i];
    if (!(s.weight > 0) || !std::isfinite(s.weight)) {
      return absl::InvalidArgumentError(
          absl::StrCat("source '", s.name, "': weight must be a positive number, got ", s.weight));
    }
    weight_sum += s.weight;
    SourcePlan& p = plan->sources[i];
    p.available_docs = s.units.size();
    for (uint32_t u : s.units) p.available_units += u;
    if (p.available_docs == 0) {
      return absl::FailedPreconditionError(absl::StrCat("source '", s.name, "' has no documents"));
    }
    if (p.available_units == 0) {
      return absl::FailedPreconditionError(absl::StrCat("source '", s.name, "' has ", p.available_docs,
                                                        " documents but 0 ", ToAbsl(MixUnitName(unit))));
    }
  }
  for (size_t i = 0; i < k; ++i) plan->sources[i].share = sources[i].weight / weight_sum;
  return absl::OkStatus();
}

// --total, or without it the largest total in which no source repeats.
absl::StatusOr<double> RequestedTotal(const MixPlan& plan, const PlanOptions& opts) {
  double total;
  if (opts.total) {
    total = static_cast<double>(*opts.total);
    if (*opts.total == 0) return absl::InvalidArgumentError("--total must be positive");
  } else {
    total = INFINITY;
    for (const SourcePlan& p : plan.sources) total = std::min(total, static_cast<double>(p.available_units) / p.share);
    if (opts.unit == MixUnit::kDocs) total = std::floor(total * (1 + 1e-12));
  }
  return total;
}

// The total after the --max-epochs cap: an error when a source would need more
// epochs, or with --allow-short the total scaled down until every source fits.
absl::StatusOr<double> CapToMaxEpochs(const std::vector<PlanSourceInput>& sources, const PlanOptions& opts,
                                      double total, MixPlan* plan) {
  // Cap check, in the order of the recipe so the message is deterministic.
  double scale = 1;
  for (size_t i = 0; i < sources.size(); ++i) {
    const SourcePlan& p = plan->sources[i];
    const double cap = opts.max_epochs * static_cast<double>(p.available_units);
    const double target = p.share * total;
    if (target > cap * (1 + 1e-12)) {
      if (!opts.allow_short) {
        return absl::ResourceExhaustedError(absl::StrFormat(
            "source '%s' needs %.2f epochs for its %.4g%% share (%s of %s %s; it has %s) but --max-epochs is %g; "
            "lower its weight or --total, raise --max-epochs, or pass --allow-short to take what fits",
            sources[i].name, target / static_cast<double>(p.available_units), 100 * p.share, Num(target),
            Num(total), std::string(MixUnitName(opts.unit)), absl::StrCat(p.available_units), opts.max_epochs));
      }
      scale = std::min(scale, cap / target);
    }
  }
  if (scale < 1) {
    plan->short_of_target = true;
    plan->scale = scale;
    total *= scale;
    if (opts.unit == MixUnit::kDocs) total = std::floor(total * (1 + 1e-12));
  }
  return total;
}

// Per-source targets: share * total; whole documents (largest remainders) for
// --by docs.
void SetTargets(MixUnit unit, double total, MixPlan* plan) {
  const size_t k = plan->sources.size();
  if (unit == MixUnit::kDocs) {
    const uint64_t n = static_cast<uint64_t>(total);
    std::vector<uint64_t> counts(k);
    std::vector<std::pair<double, size_t>> rema;
    uint64_t assigned = 0;
    for (size_t i = 0; i < k; ++i) {
      const double exact = plan->sources[i].share * static_cast<double>(n);
      counts[i] = static_cast<uint64_t>(std::floor(exact));
      assigned += counts[i];
      rema.push_back({exact - std::floor(exact), i});
    }
    std::stable_sort(rema.begin(), rema.end(), [](auto& a, auto& b) { return a.first > b.first; });
    for (size_t j = 0; assigned < n && j < k; ++j, ++assigned) ++counts[rema[j].second];
    for (size_t i = 0; i < k; ++i) plan->sources[i].target_units = static_cast<double>(counts[i]);
  } else {
    for (size_t i = 0; i < k; ++i) plan->sources[i].target_units = plan->sources[i].share * total;
  }
}

// Takes source `i`'s documents up to its target, epoch by epoch: whole
// shuffled epochs, then a random subset for the remainder.
void TakeDocuments(const std::vector<uint32_t>& units, const PlanOptions& opts, size_t i, SourcePlan* p) {
  const uint32_t d = static_cast<uint32_t>(units.size());
  double remaining = p->target_units;
  for (uint64_t epoch = 0; remaining > 0; ++epoch) {
    std::vector<uint32_t> ids(d);
    std::iota(ids.begin(), ids.end(), 0u);
    if (remaining >= static_cast<double>(p->available_units)) {
      if (opts.shuffle == ShuffleMode::kGlobal) {
        Rng rng(opts.seed, i, epoch, kEpochSalt);
        Shuffle(&ids, 0, ids.size(), &rng);
      } else {
        OrderEpoch(&ids, opts, i, epoch);
      }
      remaining -= static_cast<double>(p->available_units);
      p->taken_units += p->available_units;
      ++p->full_epochs;
    } else {
      // A uniformly random subset: a random permutation's prefix.
      Rng rng(opts.seed, i, epoch, kEpochSalt);
      Shuffle(&ids, 0, ids.size(), &rng);
      size_t taken = 0;
      double got = 0;
      while (got < remaining && taken < ids.size()) got += units[ids[taken++]];
      ids.resize(taken);
      if (opts.shuffle != ShuffleMode::kGlobal) {
        std::sort(ids.begin(), ids.end());
        OrderEpoch(&ids, opts, i, epoch);
      }
      p->taken_units += static_cast<uint64_t>(got);
      remaining = 0;
    }
    p->order.insert(p->order.end(), ids.begin(), ids.end());
  }
  p->epochs = static_cast<double>(p->taken_units) / static_cast<double>(p->available_units);
}

// Megatron's blending rule over the achieved shares. O(documents * sources):
// mixtures have few sources.
void Blend(const std::vector<PlanSourceInput>& sources, MixPlan* plan) {
  const size_t k = plan->sources.size();
  std::vector<double> share(k);
  for (size_t i = 0; i < k; ++i) {
    share[i] = plan->total_units ? static_cast<double>(plan->sources[i].taken_units) /
                                       static_cast<double>(plan->total_units)
                                 : 0;
  }
  uint64_t n_docs = 0;
  for (const SourcePlan& p : plan->sources) n_docs += p.order.size();
  plan->blend.reserve(n_docs);
  std::vector<uint64_t> pos(k, 0);
  std::vector<double> achieved(k, 0);
  double emitted = 0;
  for (uint64_t step = 0; step < n_docs; ++step) {
    size_t best = k;
    double best_lag = -INFINITY;
    for (size_t i = 0; i < k; ++i) {
      if (pos[i] == plan->sources[i].order.size()) continue;
      // Megatron measures the lag before the step (max(step, 1) samples),
      // which lets a source drift slightly past one document with three or
      // more sources. Measured after the candidate's next document, less half
      // of it (its lag at the document's midpoint), every source stays within
      // one document of its share at every prefix, also with documents of
      // very different sizes; with unit documents it is Megatron's order
      // shifted by one step.
      const double next = sources[i].units[plan->sources[i].order[pos[i]]];
      const double lag = share[i] * (emitted + next) - achieved[i] - next / 2;
      if (lag > best_lag) {
        best_lag = lag;
        best = i;
      }
    }
    const uint32_t doc = plan->sources[best].order[pos[best]++];
    const double u = sources[best].units[doc];
    achieved[best] += u;
    emitted += u;
    plan->blend.push_back(static_cast<uint16_t>(best));
  }
}

}  // namespace

absl::StatusOr<MixPlan> PlanMixture(const std::vector<PlanSourceInput>& sources, const PlanOptions& opts) {
  if (sources.empty()) return absl::InvalidArgumentError("no sources: give at least one --source or a --recipe");
  if (sources.size() > 65535) return absl::InvalidArgumentError("more than 65535 sources");
  if (!(opts.max_epochs > 0)) {
    return absl::InvalidArgumentError(absl::StrCat("--max-epochs must be positive, got ", opts.max_epochs));
  }
  MixPlan plan;
  RETURN_IF_ERROR(MeasureSources(sources, opts.unit, &plan));
  ASSIGN_OR_RETURN(double total, RequestedTotal(plan, opts));
  plan.requested_units = total;
  ASSIGN_OR_RETURN(total, CapToMaxEpochs(sources, opts, total, &plan));
  SetTargets(opts.unit, total, &plan);
  for (size_t i = 0; i < sources.size(); ++i) {
    TakeDocuments(sources[i].units, opts, i, &plan.sources[i]);
    plan.total_units += plan.sources[i].taken_units;
  }
  Blend(sources, &plan);
  return plan;
}

std::vector<Shard> CutShards(const MixPlan& plan, const std::vector<PlanSourceInput>& sources, uint64_t shard_units) {
  const size_t k = plan.sources.size();
  std::vector<Shard> shards;
  std::vector<uint64_t> pos(k, 0);
  Shard cur;
  auto start = [&](uint64_t at) {
    cur = Shard();
    cur.begin = cur.end = at;
    cur.source_begin = pos;
    cur.docs_per_source.assign(k, 0);
    cur.units_per_source.assign(k, 0);
  };
  start(0);
  for (uint64_t j = 0; j < plan.blend.size(); ++j) {
    const uint16_t s = plan.blend[j];
    const uint32_t u = sources[s].units[plan.sources[s].order[pos[s]++]];
    cur.end = j + 1;
    cur.units += u;
    ++cur.docs_per_source[s];
    cur.units_per_source[s] += u;
    if (cur.units >= std::max<uint64_t>(shard_units, 1)) {
      shards.push_back(cur);
      start(j + 1);
    }
  }
  if (cur.end > cur.begin || shards.empty()) shards.push_back(cur);
  return shards;
}

}  // namespace llmtk
