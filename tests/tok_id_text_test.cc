// tools/tok/id_text: the table-driven id printer against AppendIds (std::to_chars).
#include "tools/tok/id_text.h"

#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tools/tok/doc_batch.h"

namespace llmtk {
namespace {

TEST(IdTextTest, SameTextAsAppendIds) {
  const IdText text(128256);
  std::mt19937 rng(7);
  std::vector<uint32_t> ids;
  for (uint32_t id : {0u, 9u, 10u, 99u, 100u, 128255u, 128256u, 99999999u, 100000000u, 4294967295u}) ids.push_back(id);
  for (int i = 0; i < 100000; ++i) ids.push_back(i % 3 ? rng() % 200000 : rng());
  for (char sep : {' ', ','}) {
    for (size_t n : {size_t{0}, size_t{1}, size_t{2}, size_t{17}, ids.size()}) {
      std::span<const uint32_t> part(ids.data(), n);
      std::string want = "prefix", got = "prefix";
      AppendIds(&want, part, sep);
      text.Append(&got, part, sep);
      EXPECT_EQ(got, want) << n << " ids, separator '" << sep << "'";
    }
  }
}

TEST(IdTextTest, EmptyTable) {
  const IdText text(0);
  std::string got;
  text.Append(&got, std::vector<uint32_t>{5, 123456789}, ' ');
  EXPECT_EQ(got, "5 123456789");
}

}  // namespace
}  // namespace llmtk
