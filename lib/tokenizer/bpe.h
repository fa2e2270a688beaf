// tokenizer/bpe: the BPE model — vocabulary, ranked merges, byte-level mode
// (over GPT-2's byte alphabet, tokenizer/byte_level.h) and byte fallback.
//
// A model is built once from its vocabulary (token strings indexed by id) and
// its merges (pairs of ids with a rank; lower merges first, equal ranks merge
// leftmost first, as HF tokenizers' and llama.cpp's heaps do). In byte-level
// mode token strings are stored as the raw bytes they stand for, so words are
// encoded from bytes with no remapping on the hot path. EncodeWord keeps a
// per-thread cache of word → ids.
//
// Thread-safety: immutable after Build; EncodeWord may be called from any
// number of threads (its cache is thread-local).
#ifndef LLMTK_LIB_TOKENIZER_BPE_H_
#define LLMTK_LIB_TOKENIZER_BPE_H_

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "lib/base/status.h"
#include "lib/tokenizer/byte_level.h"
#include "lib/tokenizer/merge_table.h"
#include "lib/tokenizer/model.h"

namespace llmtk {

struct BpeMerge {
  uint32_t left, right;
  uint32_t rank;
};

struct BpeOptions {
  bool byte_level = false;     // words are bytes; vocab strings are byte-level
  bool byte_fallback = false;  // unknown characters become <0xXX> tokens
  bool fuse_unk = false;       // consecutive unknowns fuse into one unk
  bool ignore_merges = false;  // a word that is a token is emitted directly
  // Characters cut by their lead byte's length (clipped at the word's end),
  // as llama.cpp's SentencePiece session does: the same characters for valid
  // UTF-8; an invalid lead byte takes the bytes after it along.
  bool lead_byte_chars = false;
  // Ids from here on are characters that are no token but merge into
  // tokens (llama.cpp's SentencePiece merges by text: Gemma's "\t", only
  // <0x09>, still makes "\t\t"); one left after merging becomes its bytes'
  // <0xXX> tokens. size() counts only the ids below.
  uint32_t first_char_only = UINT32_MAX;
  std::optional<uint32_t> unk_id;
};

enum class BpeMergeLoop { kSimple, kScan, kHeap };

class BpeModel : public TokenModel {
 public:
  // `tokens[id]` is the token string as the vocabulary spells it. Merges
  // name ids; each merged string must be in the vocabulary (DataLoss
  // otherwise, naming the merge). `source` names the file for messages.
  static absl::StatusOr<std::unique_ptr<BpeModel>> Build(std::vector<std::string> tokens,
                                                         const std::vector<BpeMerge>& merges,
                                                         const BpeOptions& options, std::string_view source);

  // Appends the ids of one pre-tokenized word (raw bytes in byte-level mode,
  // else UTF-8 text).
  void EncodeWord(std::string_view word, std::vector<uint32_t>* out) const override;
  // The same without the cache, with the plain merge loop (a lookup of
  // every pair per merge): the reference the fast loops are tested against.
  void EncodeWordReference(std::string_view word, std::vector<uint32_t>* out) const;
  // Without the cache, with the merge loop named (EncodeWord picks kScan or
  // kHeap by the word's length), so tests can compare each with kSimple.
  void EncodeWordUncached(std::string_view word, BpeMergeLoop loop, std::vector<uint32_t>* out) const;

  std::string_view type() const override { return "BPE"; }
  size_t size() const override { return std::min<size_t>(symbols_.size(), options_.first_char_only); }
  // The model-level string of a token: raw bytes in byte-level mode.
  const std::string& symbol(uint32_t id) const { return symbols_[id]; }
  std::optional<uint32_t> Find(std::string_view symbol) const;
  const BpeOptions& options() const { return options_; }
  size_t merges() const override { return merge_table_.size(); }
  // A token as the vocabulary spells it (byte-level strings mapped back to
  // the bytes they stand for).
  std::optional<uint32_t> TokenToId(std::string_view token) const override;
  // Id of the <0xXX> token for byte b, or -1.
  int64_t byte_token(uint8_t b) const override { return byte_tokens_[b]; }

 private:
  using MergeInfo = MergeTable::Info;
  BpeModel() = default;
  // Initial symbols of a word (characters or bytes, with byte fallback).
  void InitialSymbols(std::string_view word, std::vector<uint32_t>* syms) const;
  const MergeInfo* FindMerge(uint32_t a, uint32_t b) const {
    return merge_table_.Find(a, b);
  }
  // The three merge loops give the same symbols: MergeSimple (the
  // reference) and the two EncodeWord picks from by length.
  void MergeScan(std::vector<uint32_t>* syms) const;
  void MergeHeap(std::vector<uint32_t>* syms) const;
  void MergeSimple(std::vector<uint32_t>* syms) const;
  void Finish(const std::vector<uint32_t>& syms, std::vector<uint32_t>* out) const;
  // Appends `syms`, char-only ids as their bytes' <0xXX> tokens.
  void Emit(const std::vector<uint32_t>& syms, std::vector<uint32_t>* out) const;

  BpeOptions options_;
  std::vector<std::string> symbols_;
  absl::flat_hash_map<std::string, uint32_t> vocab_;
  MergeTable merge_table_;
  std::array<int64_t, 256> byte_ids_{};     // byte-level: id of the 1-byte token
  std::array<int64_t, 256> byte_tokens_{};  // byte fallback: id of <0xXX>
  uint64_t instance_ = 0;                   // distinguishes models in the cache
};

}  // namespace llmtk

#endif  // LLMTK_LIB_TOKENIZER_BPE_H_
