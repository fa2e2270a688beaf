#include "lib/mix/plan.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace llmtk {
namespace {

PlanSourceInput Source(const std::string& name, double weight, std::vector<uint32_t> units) {
  PlanSourceInput s;
  s.name = name;
  s.weight = weight;
  s.units = std::move(units);
  return s;
}

std::vector<uint32_t> Ones(size_t n) { return std::vector<uint32_t>(n, 1); }

// Sizes like real documents: a deterministic spread from 1 to ~5000.
std::vector<uint32_t> Sizes(size_t n, uint32_t salt) {
  std::vector<uint32_t> v(n);
  uint64_t x = salt * 2654435761u + 1;
  for (auto& u : v) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    u = 1 + static_cast<uint32_t>((x >> 33) % 5000);
  }
  return v;
}

// Checks that at every prefix of the blend each source's achieved amount is
// within one document of its share of the prefix (the largest document
// taken, of any source: another source's big document moves every target).
void ExpectProportionalPrefixes(const MixPlan& plan, const std::vector<PlanSourceInput>& in) {
  const size_t k = in.size();
  std::vector<double> share(k), achieved(k, 0);
  std::vector<uint64_t> pos(k, 0);
  std::vector<uint32_t> max_unit(k, 0);
  for (size_t i = 0; i < k; ++i) {
    share[i] = static_cast<double>(plan.sources[i].taken_units) / static_cast<double>(plan.total_units);
    for (uint32_t d : plan.sources[i].order) max_unit[i] = std::max(max_unit[i], in[i].units[d]);
  }
  const uint32_t max_doc = *std::max_element(max_unit.begin(), max_unit.end());
  const double bound = max_doc;
  double t = 0;
  for (uint64_t j = 0; j < plan.blend.size(); ++j) {
    const uint16_t s = plan.blend[j];
    const uint32_t u = in[s].units[plan.sources[s].order[pos[s]++]];
    achieved[s] += u;
    t += u;
    for (size_t i = 0; i < k; ++i) {
      ASSERT_LE(std::abs(achieved[i] - share[i] * t), bound + 1e-6)
          << "source " << i << " after " << j + 1 << " documents";
    }
  }
  for (size_t i = 0; i < k; ++i) EXPECT_EQ(pos[i], plan.sources[i].order.size());
}

TEST(MixerPlanTest, DocsCountsExactAndEveryPrefixInProportion) {
  std::vector<PlanSourceInput> in = {Source("web", 6, Ones(5000)), Source("code", 2.5, Ones(900)),
                                     Source("math", 1, Ones(300)), Source("books", 0.5, Ones(40))};
  PlanOptions o;
  o.total = 3001;
  o.max_epochs = 30;
  o.seed = 7;
  auto plan = PlanMixture(in, o);
  ASSERT_TRUE(plan.ok()) << plan.status();
  // 3001 * (0.6, 0.25, 0.1, 0.05) = 1800.6, 750.25, 300.1, 150.05: largest remainder gives web the extra one.
  EXPECT_EQ(plan->sources[0].order.size(), 1801u);
  EXPECT_EQ(plan->sources[1].order.size(), 750u);
  EXPECT_EQ(plan->sources[2].order.size(), 300u);
  EXPECT_EQ(plan->sources[3].order.size(), 150u);
  EXPECT_EQ(plan->blend.size(), 3001u);
  EXPECT_EQ(plan->total_units, 3001u);
  // books: 150 of 40 = 3 full epochs + a remainder of 30 distinct documents.
  EXPECT_EQ(plan->sources[3].full_epochs, 3u);
  EXPECT_DOUBLE_EQ(plan->sources[3].epochs, 3.75);
  std::map<uint32_t, int> seen;
  for (uint32_t d : plan->sources[3].order) ++seen[d];
  int fours = 0;
  for (auto& [d, n] : seen) {
    ASSERT_TRUE(n == 3 || n == 4) << d;
    fours += n == 4;
  }
  EXPECT_EQ(fours, 30);
  // web: subsampled without replacement.
  std::set<uint32_t> web(plan->sources[0].order.begin(), plan->sources[0].order.end());
  EXPECT_EQ(web.size(), 1801u);
  ExpectProportionalPrefixes(*plan, in);
}

TEST(MixerPlanTest, ManyWeightSetsStayInProportion) {
  for (uint32_t trial = 0; trial < 60; ++trial) {
    std::vector<PlanSourceInput> in;
    const auto w = Sizes(2 + trial % 6, trial + 100);
    for (size_t i = 0; i < w.size(); ++i) {
      in.push_back(Source(absl::StrCat("s", i), w[i], trial % 2 ? Sizes(200 + 37 * i, trial * 10 + i) : Ones(500)));
    }
    PlanOptions o;
    o.unit = trial % 2 ? MixUnit::kBytes : MixUnit::kDocs;
    o.total = trial % 2 ? 2000000 : 2000;
    o.max_epochs = 1000;
    o.seed = trial;
    auto plan = PlanMixture(in, o);
    ASSERT_TRUE(plan.ok()) << plan.status();
    SCOPED_TRACE(trial);
    ExpectProportionalPrefixes(*plan, in);
  }
}

TEST(MixerPlanTest, BytesWithinOneDocumentAtEveryPrefix) {
  std::vector<PlanSourceInput> in = {Source("a", 0.6, Sizes(2000, 1)), Source("b", 0.3, Sizes(300, 2)),
                                     Source("c", 0.1, Sizes(50, 3))};
  PlanOptions o;
  o.unit = MixUnit::kBytes;
  o.total = 4000000;
  o.max_epochs = 4;
  auto plan = PlanMixture(in, o);
  ASSERT_TRUE(plan.ok()) << plan.status();
  for (size_t i = 0; i < in.size(); ++i) {
    const SourcePlan& p = plan->sources[i];
    EXPECT_GE(static_cast<double>(p.taken_units), p.target_units);
    EXPECT_LT(static_cast<double>(p.taken_units), p.target_units + 5000);
  }
  ExpectProportionalPrefixes(*plan, in);
}

TEST(MixerPlanTest, ShardBoundaries) {
  std::vector<PlanSourceInput> in = {Source("a", 0.7, Sizes(3000, 4)), Source("b", 0.3, Sizes(800, 5))};
  PlanOptions o;
  o.unit = MixUnit::kBytes;
  o.total = 5000000;
  o.max_epochs = 2;
  auto plan = PlanMixture(in, o);
  ASSERT_TRUE(plan.ok());
  auto shards = CutShards(*plan, in, 600000);
  ASSERT_GT(shards.size(), 5u);
  uint64_t next = 0, units = 0;
  for (size_t k = 0; k < shards.size(); ++k) {
    EXPECT_EQ(shards[k].begin, next);
    next = shards[k].end;
    units += shards[k].units;
    if (k + 1 < shards.size()) {
      EXPECT_GE(shards[k].units, 600000u);
      EXPECT_LT(shards[k].units, 600000u + 5000);
    }
    EXPECT_EQ(shards[k].units_per_source[0] + shards[k].units_per_source[1], shards[k].units);
  }
  EXPECT_EQ(next, plan->blend.size());
  EXPECT_EQ(units, plan->total_units);
}

TEST(MixerPlanTest, SeedChangesOrderNotCounts) {
  std::vector<PlanSourceInput> in = {Source("a", 1, Ones(1000)), Source("b", 1, Ones(100))};
  PlanOptions o;
  o.total = 1200;
  o.max_epochs = 6;
  o.seed = 1;
  auto p1 = PlanMixture(in, o);
  auto p1b = PlanMixture(in, o);
  o.seed = 2;
  auto p2 = PlanMixture(in, o);
  ASSERT_TRUE(p1.ok() && p1b.ok() && p2.ok());
  EXPECT_EQ(p1->sources[0].order, p1b->sources[0].order);
  EXPECT_EQ(p1->blend, p1b->blend);
  EXPECT_NE(p1->sources[0].order, p2->sources[0].order);
  EXPECT_NE(p1->sources[1].order, p2->sources[1].order);
  EXPECT_EQ(p1->sources[0].order.size(), p2->sources[0].order.size());
  EXPECT_EQ(p1->blend, p2->blend);  // the interleaving depends on counts only
}

TEST(MixerPlanTest, ShuffleNoneAndWindow) {
  std::vector<PlanSourceInput> in = {Source("a", 1, Ones(100))};
  PlanOptions o;
  o.total = 250;
  o.max_epochs = 3;
  o.shuffle = ShuffleMode::kNone;
  auto none = PlanMixture(in, o);
  ASSERT_TRUE(none.ok());
  const auto& ord = none->sources[0].order;
  for (uint32_t i = 0; i < 200; ++i) ASSERT_EQ(ord[i], i % 100);
  EXPECT_TRUE(std::is_sorted(ord.begin() + 200, ord.end()));  // the sampled half, in input order
  o.shuffle = ShuffleMode::kWindow;
  o.window = 10;
  auto win = PlanMixture(in, o);
  ASSERT_TRUE(win.ok());
  const auto& w = win->sources[0].order;
  EXPECT_NE(std::vector<uint32_t>(w.begin(), w.begin() + 100), std::vector<uint32_t>(ord.begin(), ord.begin() + 100));
  for (size_t b = 0; b < 100; b += 10) {
    std::vector<uint32_t> block(w.begin() + b, w.begin() + b + 10);
    std::sort(block.begin(), block.end());
    for (uint32_t j = 0; j < 10; ++j) ASSERT_EQ(block[j], b + j);
  }
}

TEST(MixerPlanTest, DefaultTotalUsesTheLimitingSourceOnce) {
  std::vector<PlanSourceInput> in = {Source("a", 0.5, Ones(1000)), Source("b", 0.5, Ones(300))};
  auto plan = PlanMixture(in, PlanOptions());
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->sources[0].order.size(), 300u);
  EXPECT_EQ(plan->sources[1].order.size(), 300u);
  EXPECT_EQ(plan->sources[1].full_epochs, 1u);
}

TEST(MixerPlanTest, CapErrorAndAllowShort) {
  std::vector<PlanSourceInput> in = {Source("web", 0.6, Ones(10000)), Source("books", 0.4, Ones(100))};
  PlanOptions o;
  o.total = 1000;
  o.max_epochs = 3;
  auto plan = PlanMixture(in, o);
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(plan.status().message(),
            "source 'books' needs 4.00 epochs for its 40% share (400 of 1000 docs; it has 100) but --max-epochs is 3; "
            "lower its weight or --total, raise --max-epochs, or pass --allow-short to take what fits");
  o.allow_short = true;
  plan = PlanMixture(in, o);
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->short_of_target);
  EXPECT_EQ(plan->sources[1].order.size(), 300u);  // 3 epochs, all of it
  EXPECT_EQ(plan->sources[0].order.size(), 450u);  // shares kept: 750 in total
}

TEST(MixerPlanTest, BadInputs) {
  PlanOptions o;
  EXPECT_EQ(PlanMixture({}, o).status().message(), "no sources: give at least one --source or a --recipe");
  EXPECT_EQ(PlanMixture({Source("a", 0, Ones(3))}, o).status().message(),
            "source 'a': weight must be a positive number, got 0");
  EXPECT_EQ(PlanMixture({Source("a", -1, Ones(3))}, o).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PlanMixture({Source("a", 1, Ones(3)), Source("b", 1, {})}, o).status().message(),
            "source 'b' has no documents");
  o.unit = MixUnit::kBytes;
  EXPECT_EQ(PlanMixture({Source("a", 1, {0, 0})}, o).status().message(), "source 'a' has 2 documents but 0 bytes");
}

}  // namespace
}  // namespace llmtk
