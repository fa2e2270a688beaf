// tokenizer/added: added (special) tokens, matched in the raw text before
// normalization and pre-tokenization, leftmost-longest as HF tokenizers'
// AddedVocabulary does, honouring lstrip, rstrip and single_word.
//
// Thread-safety: immutable after construction; Split is safe from any thread.
#ifndef LLMTK_LIB_TOKENIZER_ADDED_H_
#define LLMTK_LIB_TOKENIZER_ADDED_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace llmtk {

struct AddedToken {
  std::string content;
  uint32_t id = 0;
  bool special = false;
  bool lstrip = false, rstrip = false, single_word = false, normalized = false;
  // lstrip/rstrip take only ASCII whitespace (llama.cpp's isspace), not
  // every Unicode one (HF's).
  bool ascii_strip = false;
};

// A run of the input: either text (id < 0) or one added token.
struct Segment {
  uint32_t begin, end;  // byte range in the input
  int64_t id;           // added token id, or -1 for text
};

class AddedVocabulary {
 public:
  void Add(AddedToken t);
  const std::vector<AddedToken>& tokens() const { return tokens_; }
  bool empty() const { return tokens_.empty(); }
  // Splits `text` into text runs and added tokens, in order. Whitespace
  // swallowed by lstrip/rstrip belongs to neither kind of run. Without
  // `parse_special`, special tokens' text is left as text (llama.cpp's
  // parse_special = false).
  void Split(std::string_view text, std::vector<Segment>* out, bool parse_special = true) const;

 private:
  std::vector<AddedToken> tokens_;
  // Token indices by first byte, longest content first.
  std::array<std::vector<uint32_t>, 256> by_first_;
  std::array<bool, 256> is_first_{};  // some token starts with this byte
};

}  // namespace llmtk

#endif  // LLMTK_LIB_TOKENIZER_ADDED_H_
