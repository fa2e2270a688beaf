#include "lib/convert/quant_recipe.h"

#include <algorithm>
#include <cstdio>
#include <numeric>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace llmtk {
namespace {

using FT = LlamaFileType;
using GT = GgmlType;

struct FtypeRow {
  const char* name;
  FT ftype;
  GT default_type;
};

constexpr FtypeRow kFtypes[] = {
    {"F32", FT::kAllF32, GT::kF32},     {"F16", FT::kF16, GT::kF16},         {"BF16", FT::kBF16, GT::kBF16},
    {"Q4_0", FT::kQ4_0, GT::kQ4_0},     {"Q4_1", FT::kQ4_1, GT::kQ4_1},      {"Q5_0", FT::kQ5_0, GT::kQ5_0},
    {"Q5_1", FT::kQ5_1, GT::kQ5_1},     {"Q8_0", FT::kQ8_0, GT::kQ8_0},      {"Q2_K", FT::kQ2_K, GT::kQ2_K},
    {"Q3_K_S", FT::kQ3_K_S, GT::kQ3_K}, {"Q3_K_M", FT::kQ3_K_M, GT::kQ3_K},  {"Q3_K_L", FT::kQ3_K_L, GT::kQ3_K},
    {"Q4_K_S", FT::kQ4_K_S, GT::kQ4_K}, {"Q4_K_M", FT::kQ4_K_M, GT::kQ4_K},  {"Q5_K_S", FT::kQ5_K_S, GT::kQ5_K},
    {"Q5_K_M", FT::kQ5_K_M, GT::kQ5_K}, {"Q6_K", FT::kQ6_K, GT::kQ6_K},      {"IQ4_NL", FT::kIQ4_NL, GT::kIQ4_NL},
    {"IQ4_XS", FT::kIQ4_XS, GT::kIQ4_XS}, {"Q2_K_S", FT::kQ2_K_S, GT::kQ2_K}, {"IQ3_XXS", FT::kIQ3_XXS, GT::kIQ3_XXS},
    {"IQ3_XS", FT::kIQ3_XS, GT::kIQ3_S}, {"IQ3_S", FT::kIQ3_S, GT::kIQ3_S},     {"IQ3_M", FT::kIQ3_M, GT::kIQ3_S},
    {"IQ2_XXS", FT::kIQ2_XXS, GT::kIQ2_XXS}, {"IQ2_XS", FT::kIQ2_XS, GT::kIQ2_XS}, {"IQ2_S", FT::kIQ2_S, GT::kIQ2_XS},
    {"IQ2_M", FT::kIQ2_M, GT::kIQ2_S},  {"IQ1_S", FT::kIQ1_S, GT::kIQ1_S},    {"IQ1_M", FT::kIQ1_M, GT::kIQ1_M},
};

// The 1- and 2-bit IQ file types (their recipe moves attn_v, the first
// ffn_down layers, token_embd and output to other types).
bool IsLowBitIq(FT f) {
  return f == FT::kIQ2_XXS || f == FT::kIQ2_XS || f == FT::kIQ2_S || f == FT::kIQ2_M || f == FT::kIQ1_S ||
         f == FT::kIQ1_M;
}

// llama-quantize's short aliases.
constexpr std::pair<const char*, const char*> kAliases[] = {{"Q3_K", "Q3_K_M"}, {"Q4_K", "Q4_K_M"}, {"Q5_K", "Q5_K_M"}};

enum class Category { kTokenEmbd, kAttnQ, kAttnV, kAttnK, kAttnQkv, kAttnKvB, kAttnOutput, kFfnUp, kFfnGate, kFfnDown,
                      kOutput, kOther };

bool Contains(const std::string& s, std::string_view sub) { return s.find(sub) != std::string::npos; }

Category CategoryOf(const std::string& name) {
  if (name == "output.weight") return Category::kOutput;
  if (name == "token_embd.weight" || name == "per_layer_token_embd.weight") return Category::kTokenEmbd;
  if (Contains(name, "attn_qkv.weight")) return Category::kAttnQkv;
  if (Contains(name, "attn_kv_b.weight")) return Category::kAttnKvB;
  if (Contains(name, "attn_v.weight")) return Category::kAttnV;
  if (Contains(name, "attn_k.weight")) return Category::kAttnK;
  if (Contains(name, "attn_q.weight")) return Category::kAttnQ;
  if (Contains(name, "attn_output.weight")) return Category::kAttnOutput;
  if (Contains(name, "ffn_up")) return Category::kFfnUp;
  if (Contains(name, "ffn_gate")) return Category::kFfnGate;
  if (Contains(name, "ffn_down")) return Category::kFfnDown;
  return Category::kOther;
}

// attn_qkv and deepseek2's attn_kv_b count toward n_attention_wv
// (llama-quant.cpp's census) but c392e50 applies attn_v's rule, and
// advances i_attention_wv, for attn_v alone (kv_b keeps the default type).
bool IsAttnVLike(Category c) { return c == Category::kAttnV || c == Category::kAttnKvB; }

int NDims(const std::vector<int64_t>& dims) {
  for (int i = static_cast<int>(dims.size()) - 1; i >= 1; --i) {
    if (dims[i] > 1) return i + 1;
  }
  return 1;
}

bool UseMoreBits(int64_t i_layer, int64_t n_layers) {
  return i_layer < n_layers / 8 || i_layer >= 7 * n_layers / 8 || (i_layer - n_layers / 8) % 3 == 2;
}

// llama-quant.cpp's layer_info: the counter, or with experts (whose tensors
// are not visited layer by layer) the layer number in the name.
int64_t LayerOf(const RecipeModel& m, const RecipeTensor& t, int64_t counter) {
  if (m.n_expert > 1) {
    int parsed = -1;
    if (std::sscanf(t.name.c_str(), "blk.%d.", &parsed) == 1) return parsed;
  }
  return counter;
}

struct State {
  int64_t n_attention_wv = 0, i_attention_wv = 0;
  int64_t n_ffn_down = 0, i_ffn_down = 0;
  int64_t n_ffn_gate = 0, i_ffn_gate = 0;
  int64_t n_ffn_up = 0, i_ffn_up = 0;
  bool has_tied_embeddings = true;
  bool has_imatrix = false;
  std::optional<GT> output_type;
};

// llama_tensor_get_type_impl for the file types ParseQuantTarget accepts.
GT RecipeType(State& qs, const RecipeModel& m, GT new_type, const RecipeTensor& t, FT ftype, Category cat) {
  const bool falcon = m.arch == "falcon";
  const int64_t n_gqa = m.n_head_kv > 0 ? m.n_head / m.n_head_kv : 0;
  const bool is_70b = m.arch == "llama" && m.n_layer == 80 && m.n_head != m.n_head_kv;
  if (cat == Category::kOutput || (qs.has_tied_embeddings && cat == Category::kTokenEmbd)) {
    const int64_t nx = t.dims.empty() ? 1 : t.dims[0];
    if (qs.output_type) {
      new_type = *qs.output_type;
    } else if (falcon || nx % TypeInfo(new_type).block_size != 0) {
      new_type = GT::kQ8_0;
    } else if (IsLowBitIq(ftype) || ftype == FT::kIQ3_XXS) {
      new_type = GT::kQ5_K;
    } else if (new_type != GT::kQ8_0) {
      new_type = GT::kQ6_K;
    }
  } else if (cat == Category::kTokenEmbd) {
    if (ftype == FT::kIQ2_XXS || ftype == FT::kIQ2_XS || ftype == FT::kIQ1_S || ftype == FT::kIQ1_M) {
      new_type = GT::kQ2_K;
    } else if (ftype == FT::kIQ2_S || ftype == FT::kIQ2_M || ftype == FT::kIQ3_XXS) {
      new_type = GT::kIQ3_S;
    }
  } else if (IsLowBitIq(ftype)) {
    const bool s_or_m = ftype == FT::kIQ2_S || ftype == FT::kIQ2_M;
    if (cat == Category::kAttnV) {
      new_type = n_gqa >= 4 || m.n_expert >= 4 ? GT::kQ4_K : s_or_m ? GT::kIQ3_S : GT::kQ2_K;
      ++qs.i_attention_wv;
    } else if (m.n_expert == 8 && cat == Category::kAttnK) {
      new_type = GT::kQ4_K;
    } else if (cat == Category::kFfnDown) {
      if (qs.i_ffn_down < qs.n_ffn_down / 8) new_type = s_or_m ? GT::kIQ3_S : GT::kQ2_K;
      ++qs.i_ffn_down;
    } else if (cat == Category::kAttnOutput) {
      if (m.n_expert == 8) {
        new_type = GT::kQ5_K;
      } else if (ftype == FT::kIQ1_S || ftype == FT::kIQ1_M) {
        new_type = GT::kIQ2_XXS;
      } else if (s_or_m) {
        new_type = GT::kIQ3_S;
      }
    }
  } else if (cat == Category::kAttnV) {
    if (ftype == FT::kQ2_K) {
      new_type = n_gqa >= 4 ? GT::kQ4_K : GT::kQ3_K;
    } else if (ftype == FT::kQ2_K_S && n_gqa >= 4) {
      new_type = GT::kQ4_K;
    } else if (ftype == FT::kIQ3_XXS) {
      new_type = n_gqa >= 4 ? GT::kQ4_K : !qs.has_imatrix ? GT::kIQ3_S : GT::kIQ3_XXS;
    } else if ((ftype == FT::kIQ3_XS || ftype == FT::kIQ3_S) && n_gqa >= 4) {
      new_type = GT::kQ4_K;
    } else if (ftype == FT::kIQ3_M) {
      new_type = GT::kQ4_K;
    } else if (ftype == FT::kQ3_K_M) {
      new_type = qs.i_attention_wv < 2 ? GT::kQ5_K : GT::kQ4_K;
    } else if (ftype == FT::kQ3_K_L) {
      new_type = GT::kQ5_K;
    } else if ((ftype == FT::kIQ4_NL || ftype == FT::kIQ4_XS) && n_gqa >= 4) {
      new_type = GT::kQ5_K;
    } else if ((ftype == FT::kQ4_K_M || ftype == FT::kQ5_K_M) && UseMoreBits(qs.i_attention_wv, qs.n_attention_wv)) {
      new_type = GT::kQ6_K;
    } else if (ftype == FT::kQ4_K_S && qs.i_attention_wv < 4) {
      new_type = GT::kQ5_K;
    }
    if (is_70b && (new_type == GT::kQ3_K || new_type == GT::kQ4_K)) new_type = GT::kQ5_K;
    if (m.n_expert == 8) new_type = GT::kQ8_0;
    ++qs.i_attention_wv;
  } else if (cat == Category::kAttnK) {
    if (m.n_expert == 8) {
      new_type = GT::kQ8_0;
    } else if (ftype == FT::kIQ3_XS) {
      new_type = GT::kIQ3_XXS;
    } else if (ftype == FT::kIQ3_XXS) {
      new_type = GT::kIQ2_S;
    }
  } else if (cat == Category::kAttnQ) {
    if (ftype == FT::kIQ3_XS) new_type = GT::kIQ3_XXS;
    else if (ftype == FT::kIQ3_XXS) new_type = GT::kIQ2_S;
  } else if (cat == Category::kFfnDown) {
    const int64_t i_layer = LayerOf(m, t, qs.i_ffn_down);
    const int64_t n_layer = qs.n_ffn_down;
    if (ftype == FT::kQ2_K) {
      new_type = GT::kQ3_K;
    } else if (ftype == FT::kQ2_K_S) {
      if (i_layer < n_layer / 8) new_type = GT::kQ4_K;
    } else if (ftype == FT::kIQ3_XXS && !qs.has_imatrix) {
      new_type = i_layer < n_layer / 8 ? GT::kQ4_K : GT::kQ3_K;
    } else if (ftype == FT::kQ3_K_M) {
      new_type = i_layer < n_layer / 16 ? GT::kQ5_K : (!falcon || UseMoreBits(i_layer, n_layer)) ? GT::kQ4_K : GT::kQ3_K;
    } else if (ftype == FT::kIQ3_M && (i_layer < n_layer / 8 || (m.n_expert == 8 && UseMoreBits(i_layer, n_layer)))) {
      new_type = GT::kQ4_K;
    } else if (ftype == FT::kQ3_K_L) {
      new_type = falcon ? GT::kQ4_K : GT::kQ5_K;
    } else if (ftype == FT::kQ4_K_M) {
      if (falcon) {
        new_type = i_layer < n_layer / 16 ? GT::kQ6_K : UseMoreBits(i_layer, n_layer) ? GT::kQ5_K : GT::kQ4_K;
      } else if (UseMoreBits(i_layer, n_layer)) {
        new_type = GT::kQ6_K;
      }
    } else if (i_layer < n_layer / 8 && (ftype == FT::kIQ4_NL || ftype == FT::kIQ4_XS) && !qs.has_imatrix) {
      new_type = GT::kQ5_K;
    } else if (ftype == FT::kQ5_K_M && UseMoreBits(i_layer, n_layer)) {
      new_type = GT::kQ6_K;
    } else if (ftype == FT::kQ4_K_S && !falcon && i_layer < n_layer / 8) {
      new_type = GT::kQ5_K;
    } else if ((ftype == FT::kQ4_0 || ftype == FT::kQ5_0) && qs.has_imatrix && i_layer < n_layer / 8) {
      // llama.cpp guards the first ffn_down layers of imatrix Q4_0/Q5_0 files.
      new_type = ftype == FT::kQ4_0 ? GT::kQ4_1 : GT::kQ5_1;
    }
    ++qs.i_ffn_down;
  } else if (cat == Category::kAttnOutput) {
    if (!falcon) {
      if (m.n_expert == 8) {
        if (ftype == FT::kQ2_K || ftype == FT::kIQ3_XS || ftype == FT::kIQ3_XXS || ftype == FT::kQ3_K_S ||
            ftype == FT::kQ3_K_M || ftype == FT::kIQ4_NL || ftype == FT::kQ4_K_S || ftype == FT::kQ4_K_M ||
            ftype == FT::kIQ3_S || ftype == FT::kIQ3_M || ftype == FT::kIQ4_XS) {
          new_type = GT::kQ5_K;
        }
      } else {
        if (ftype == FT::kQ2_K) new_type = GT::kQ3_K;
        else if (ftype == FT::kIQ3_XXS) new_type = GT::kIQ3_S;
        else if (ftype == FT::kQ3_K_M) new_type = GT::kQ4_K;
        else if (ftype == FT::kQ3_K_L) new_type = GT::kQ5_K;
        else if (ftype == FT::kIQ3_M) new_type = GT::kQ4_K;
      }
    } else if (ftype == FT::kQ3_K_L) {
      new_type = GT::kQ4_K;
    }
  } else if (cat == Category::kAttnQkv) {
    if (ftype == FT::kQ3_K_M || ftype == FT::kQ3_K_L || ftype == FT::kIQ3_M) new_type = GT::kQ4_K;
    else if (ftype == FT::kQ4_K_M) new_type = GT::kQ5_K;
    else if (ftype == FT::kQ5_K_M) new_type = GT::kQ6_K;
  } else if (cat == Category::kFfnGate || cat == Category::kFfnUp) {
    int64_t& counter = cat == Category::kFfnGate ? qs.i_ffn_gate : qs.i_ffn_up;
    const int64_t i_layer = LayerOf(m, t, counter);
    const int64_t n_layer = cat == Category::kFfnGate ? qs.n_ffn_gate : qs.n_ffn_up;
    if (ftype == FT::kIQ3_XS && i_layer >= n_layer / 8 && i_layer < 7 * n_layer / 8) new_type = GT::kIQ3_XXS;
    ++counter;
  }
  return new_type;
}

// Rows that do not split into the chosen type's blocks.
GT Fallback(const RecipeTensor& t, GT type) {
  const int64_t ncols = t.dims.empty() ? 1 : t.dims[0];
  if (ncols % TypeInfo(type).block_size == 0) return type;
  GT fb;
  switch (type) {
    case GT::kIQ2_XXS:
    case GT::kIQ2_XS:
    case GT::kIQ2_S:
    case GT::kIQ3_XXS:
    case GT::kIQ3_S:
    case GT::kIQ1_S:
    case GT::kIQ1_M:
    case GT::kQ2_K:
    case GT::kQ3_K:
    case GT::kIQ4_XS: fb = GT::kIQ4_NL; break;
    case GT::kQ4_K: fb = GT::kQ5_0; break;
    case GT::kQ5_K: fb = GT::kQ5_1; break;
    case GT::kQ6_K: fb = GT::kQ8_0; break;
    default: fb = GT::kF16; break;  // legacy 32-blocks: nothing smaller divides
  }
  if (ncols % TypeInfo(fb).block_size != 0) fb = GT::kF16;
  return fb;
}

}  // namespace

absl::StatusOr<QuantTarget> ParseQuantTarget(std::string_view name, bool pure) {
  std::string upper = absl::AsciiStrToUpper(ToAbsl(name));
  for (const auto& [alias, full] : kAliases) {
    if (upper == alias) upper = full;
  }
  for (const FtypeRow& r : kFtypes) {
    if (upper == r.name) {
      QuantTarget t;
      t.ftype = r.ftype;
      t.default_type = r.default_type;
      t.pure = pure;
      return t;
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown --type '", ToAbsl(name), "'; expected one of ", QuantTargetNames()));
}

std::string_view LlamaFileTypeName(LlamaFileType ftype) {
  for (const FtypeRow& r : kFtypes) {
    if (r.ftype == ftype) return r.name;
  }
  return "unknown";
}

std::string QuantTargetNames() {
  std::vector<std::string> names;
  for (const FtypeRow& r : kFtypes) names.push_back(r.name);
  for (const auto& a : kAliases) names.push_back(a.first);
  return absl::StrJoin(names, ", ");
}

bool TensorAllowsQuantization(const RecipeTensor& t) {
  if (NDims(t.dims) < 2) return false;
  const std::string& n = t.name;
  if (n.size() < 6 || n.compare(n.size() - 6, 6, "weight") != 0) return false;
  static constexpr std::string_view kNever[] = {
      "_norm.weight", "ffn_gate_inp.weight", "altup", "laurel", "per_layer_model_proj", "ssm_conv1d",
      "shortconv.conv.weight", "time_mix_first.weight", "time_mix_w0.weight", "time_mix_w1.weight",
      "time_mix_w2.weight", "time_mix_v0.weight", "time_mix_v1.weight", "time_mix_v2.weight",
      "time_mix_a0.weight", "time_mix_a1.weight", "time_mix_a2.weight", "time_mix_g1.weight",
      "time_mix_g2.weight", "time_mix_decay_w1.weight", "time_mix_decay_w2.weight",
      "time_mix_lerp_fused.weight", "attn_rel_b.weight"};
  for (std::string_view s : kNever) {
    if (Contains(n, s)) return false;
  }
  return n != "position_embd.weight" && n != "token_types.weight";
}

std::vector<GgmlType> PlanTensorTypes(const QuantTarget& target, const RecipeModel& model,
                                      const std::vector<RecipeTensor>& tensors) {
  State qs;
  for (const RecipeTensor& t : tensors) {
    const Category c = CategoryOf(t.name);
    if (IsAttnVLike(c) || c == Category::kAttnQkv) ++qs.n_attention_wv;
    if (c == Category::kOutput) qs.has_tied_embeddings = false;
  }
  qs.n_ffn_down = qs.n_ffn_gate = qs.n_ffn_up = model.n_layer;
  qs.has_imatrix = target.has_imatrix;
  qs.output_type = target.output_type;
  std::vector<GgmlType> out;
  out.reserve(tensors.size());
  for (const RecipeTensor& t : tensors) {
    if (!TensorAllowsQuantization(t)) {
      out.push_back(t.type);
      continue;
    }
    GT type = target.default_type;
    if (TypeInfo(type).quantized) {
      if (!target.pure) type = RecipeType(qs, model, type, t, target.ftype, CategoryOf(t.name));
      type = Fallback(t, type);
    }
    // As llama-quantize, after the recipe and without fallback.
    if (target.token_embd_type && t.name == "token_embd.weight") type = *target.token_embd_type;
    if (target.output_type && t.name == "output.weight") type = *target.output_type;
    out.push_back(type);
  }
  return out;
}

bool NeedsImatrix(GgmlType type, LlamaFileType ftype, std::string_view tensor) {
  switch (type) {
    case GT::kIQ2_XXS:
    case GT::kIQ2_XS:
    case GT::kIQ2_S:
    case GT::kIQ1_S: return true;
    case GT::kIQ1_M: return tensor != "token_embd.weight" && tensor != "output.weight";
    case GT::kQ2_K: return ftype == FT::kQ2_K_S && tensor != "token_embd.weight";
    default: return false;
  }
}

std::vector<size_t> LlamaQuantizeOrder(const std::vector<std::string>& names) {
  std::vector<int> layer(names.size(), -1);
  for (size_t i = 0; i < names.size(); ++i) std::sscanf(names[i].c_str(), "blk.%d.", &layer[i]);
  std::vector<size_t> order(names.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (layer[a] != layer[b]) return layer[a] < layer[b];
    return names[a] < names[b];
  });
  return order;
}

}  // namespace llmtk
