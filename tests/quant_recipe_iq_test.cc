// The IQ file types' per-tensor choices against llama-quantize c392e50's
// own log (testdata/quant/recipe-iq.tsv, scripts/reference/iq-recipe-reference):
// IQ1_S, IQ1_M, IQ2_XXS, IQ2_XS, IQ2_S, IQ2_M, IQ3_XXS, IQ3_XS, IQ3_S, IQ3_M,
// IQ4_XS, IQ4_NL with an imatrix, the IQ3/IQ4 ones also without, on
// random-llama-256 (GQA 2) and on random models with TinyLlama-1.1B's
// (GQA 8, 8 of its layers) and Llama-3.1-8B's (GQA 4, 4 layers) head counts
// at 1/8 of their widths (TinyLlama's FFN 704 is no multiple of 256: the
// fallbacks).
#include <cctype>
#include <fstream>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "lib/convert/quant_recipe.h"

namespace llmtk {
namespace {

struct Row {
  std::string name;
  std::vector<int64_t> dims;
  std::string type;
};

TEST(QuantRecipeIq, TypeChoicesEqualLlamaQuantize) {
  const std::map<std::string, RecipeModel> models = {
      {"r256", {"llama", 2, 8, 4, 0}},
      {"tinyllama-w8", {"llama", 8, 32, 4, 0}},
      {"llama3-8b-w8", {"llama", 4, 32, 8, 0}},
  };
  std::ifstream in(LLMTK_TESTDATA "/quant/recipe-iq.tsv");
  ASSERT_TRUE(in.good());
  std::map<std::tuple<std::string, std::string, std::string>, std::vector<Row>> cases;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    ASSERT_EQ(f.size(), 6u) << line;
    Row r{f[3], {}, f[5]};
    for (absl::string_view d : absl::StrSplit(f[4], 'x')) {
      int64_t v;
      ASSERT_TRUE(absl::SimpleAtoi(d, &v)) << line;
      r.dims.push_back(v);
    }
    cases[{f[0], f[1], f[2]}].push_back(std::move(r));
  }
  EXPECT_EQ(cases.size(), 3u * (12 + 5));
  int tensors = 0;
  for (const auto& [key, rows] : cases) {
    const auto& [model, ftype, imatrix] = key;
    auto target = ParseQuantTarget(ftype, false);
    ASSERT_TRUE(target.ok()) << target.status();
    target->has_imatrix = imatrix == "imatrix";
    std::vector<RecipeTensor> tensors_in;
    for (const Row& r : rows) tensors_in.push_back({r.name, r.dims, GgmlType::kF32});
    const std::vector<GgmlType> got = PlanTensorTypes(*target, models.at(model), tensors_in);
    ASSERT_EQ(got.size(), rows.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      std::string name(GgmlTypeName(got[i]));
      for (char& c : name) c = static_cast<char>(std::tolower(c));
      EXPECT_EQ(name, rows[i].type) << model << " " << ftype << " " << imatrix << " " << rows[i].name;
      ++tensors;
    }
  }
  EXPECT_GT(tensors, 1000);
}

}  // namespace
}  // namespace llmtk
