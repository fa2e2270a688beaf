// formats/gguf_keys: the names of the GGUF metadata keys llmtk reads and
// writes, in one table, as llama.cpp keeps them in llama-arch.cpp
// (LLM_KV_NAMES). Two kinds of key:
// - GgufKey: keys with a fixed name -- general.* (architecture, name, file
//   type, alignment, ...), split.*, and the tokenizer's vocabulary keys
//   (model, pre, tokens, scores, token types, merges, special token ids,
//   add_bos/add_eos/add_space_prefix, chat template);
// - GgufArchKey: hyperparameters named per architecture, "<arch>.<suffix>"
//   ("llama.context_length", "qwen2.attention.head_count_kv", ...).
// Readers and writers name a key by its enum value, never by a string
// literal, so every key is spelled once, here (in gguf_keys.cc).
//
// Thread-safety: constant tables; every function is safe from any thread.
#ifndef LLMTK_LIB_FORMATS_GGUF_KEYS_H_
#define LLMTK_LIB_FORMATS_GGUF_KEYS_H_

#include <string>
#include <string_view>

namespace llmtk {

enum class GgufKey {
  // general.*
  kGeneralArchitecture,
  kGeneralType,
  kGeneralName,
  kGeneralSizeLabel,
  kGeneralFileType,
  kGeneralQuantizationVersion,
  kGeneralAlignment,
  // split.* (gguf-split shards)
  kSplitNo,
  kSplitCount,
  kSplitTensorsCount,
  // The vocabulary (formats/gguf_vocab.h reads and writes these).
  kTokenizerModel,
  kTokenizerPre,
  kTokenizerTokens,
  kTokenizerTokenType,
  kTokenizerScores,
  kTokenizerMerges,
  kTokenizerBosId,
  kTokenizerEosId,
  kTokenizerEotId,
  kTokenizerUnknownId,
  kTokenizerSeparatorId,
  kTokenizerPaddingId,
  kTokenizerClsId,
  kTokenizerMaskId,
  kTokenizerAddBos,
  kTokenizerAddEos,
  kTokenizerAddSpacePrefix,
  kTokenizerRemoveExtraWhitespaces,
  kTokenizerPrecompiledCharsmap,
  kTokenizerChatTemplate,
  // Importance-matrix files (llama-imatrix's GGUF form) and what
  // llama-quantize --imatrix records in the model it writes.
  kImatrixDatasets,
  kImatrixChunkCount,
  kImatrixChunkSize,
  kQuantizeImatrixFile,
  kQuantizeImatrixDataset,
  kQuantizeImatrixEntriesCount,
  kQuantizeImatrixChunksCount,
  // Ids llama.cpp's vocabulary loader reads to tell end-of-message and
  // fill-in-the-middle tokens (prefix/suffix/middle: the older spelling).
  kTokenizerEomId,
  kTokenizerFimPreId,
  kTokenizerFimSufId,
  kTokenizerFimMidId,
  kTokenizerFimPadId,
  kTokenizerFimRepId,
  kTokenizerFimSepId,
  kTokenizerPrefixId,
  kTokenizerSuffixId,
  kTokenizerMiddleId,
};

// The key's name, e.g. "general.architecture".
std::string_view GgufKeyName(GgufKey key);

enum class GgufArchKey {
  kVocabSize,
  kContextLength,
  kEmbeddingLength,
  kBlockCount,
  kFeedForwardLength,
  kExpertFeedForwardLength,
  kExpertCount,
  kExpertUsedCount,
  kExpertSharedFeedForwardLength,  // qwen2moe: the shared expert's width
  kAttentionHeadCount,
  kAttentionHeadCountKv,
  kAttentionKeyLength,
  kAttentionValueLength,
  kAttentionLayerNormRmsEpsilon,
  kAttentionSlidingWindow,
  kAttentionQLoraRank,
  kAttentionKvLoraRank,
  kRopeDimensionCount,
  kRopeFreqBase,
  kRopeScaleLinear,
  kRopeScalingType,
  kRopeScalingFactor,
  kRopeScalingAttnFactor,
  kRopeScalingOriginalContextLength,
  kRopeScalingYarnBetaFast,
  kRopeScalingYarnBetaSlow,
  // Gemma 2/3: tanh soft-capping of attention scores and output logits,
  // the local layers' RoPE base.
  kAttnLogitSoftcapping,
  kFinalLogitSoftcapping,
  kRopeFreqBaseSwa,
  // DeepSeek-V2 (deepseek2): dense blocks before the sparse ones, shared
  // experts, the routed weights' scale and renormalisation, the gating
  // function (1 softmax, 2 sigmoid), YaRN's attention-scale multiplier.
  kLeadingDenseBlockCount,
  kExpertSharedCount,
  kExpertWeightsScale,
  kExpertWeightsNorm,
  kExpertGatingFunc,
  kRopeScalingYarnLogMultiplier,
};

// The key's name for architecture `arch`, e.g. "llama.context_length".
std::string GgufKeyName(GgufArchKey key, std::string_view arch);
// The name after "<arch>.", e.g. "context_length", for messages that speak
// of the key whatever the architecture.
std::string_view GgufArchKeySuffix(GgufArchKey key);

}  // namespace llmtk

#endif  // LLMTK_LIB_FORMATS_GGUF_KEYS_H_
