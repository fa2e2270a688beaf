// tokenizer/decode: HF tokenizers' decoders — ByteLevel, Replace,
// ByteFallback, Fuse, Strip, Metaspace, WordPiece — SentencePiece's
// dropping of the dummy prefix (SpmPrefix) and llama.cpp's clean-up of
// spaces (LlamaCleanSpaces), applied in sequence to the token strings of an
// id sequence, then joined.
//
// Thread-safety: immutable after construction; Run is safe from any thread.
#ifndef LLMTK_LIB_TOKENIZER_DECODE_H_
#define LLMTK_LIB_TOKENIZER_DECODE_H_

#include <string>
#include <string_view>
#include <vector>

namespace llmtk {

struct DecoderStep {
  enum class Kind {
    kByteLevel, kReplace, kByteFallback, kFuse, kStrip, kMetaspace, kSpmPrefix, kWordPiece,
    kLlamaCleanSpaces,  // llama.cpp's detokenizer clean-up over the joined text (LlamaCleanSpaces)
  };
  Kind kind = Kind::kByteLevel;
  // SpmPrefix: as spm_decode, each token while the text so far is empty
  // loses one leading `content`.
  std::string pattern, content;  // Replace; Strip's content; Metaspace's replacement; WordPiece's prefix
  int start = 0, stop = 0;       // Strip
  bool prepend = true;           // Metaspace: strip the first leading space
  bool cleanup = true;           // WordPiece: drop the spaces tokenization put before . , ? ! and the like
};

// llama.cpp's detokenizer clean-up (its clean_spaces: WPM vocabularies and
// BPE ones), three passes over the bytes, each on the previous one's output:
// a space before ? ! . , goes; " ' " becomes "'"; a space before 's 'm 're
// 've goes (before 't 'd 'll it stays). As llama.cpp edits in place, the
// space after a " ' " it removed is blanked, not a space, when the next byte
// looks behind it.
std::string LlamaCleanSpaces(std::string_view text);

// SentencePiece's space mark U+2581 as ' ' (llama.cpp's token_to_piece for
// SPM vocabularies, transformers' converters for added tokens).
std::string SpmSpacesToSpaces(std::string_view s);

class Decoder {
 public:
  void Add(DecoderStep step) { steps_.push_back(std::move(step)); }
  bool empty() const { return steps_.empty(); }
  const std::vector<DecoderStep>& steps() const { return steps_; }
  // Decodes token strings into text (joined). Invalid UTF-8 that results
  // (e.g. a byte sequence cut by a ByteLevel token boundary) becomes U+FFFD,
  // as HF's from_utf8_lossy does.
  std::string Run(std::vector<std::string> tokens) const;

 private:
  std::vector<DecoderStep> steps_;
};

}  // namespace llmtk

#endif  // LLMTK_LIB_TOKENIZER_DECODE_H_
