// formats/sentencepiece_model: a SentencePiece model file (`*.model`,
// Hugging Face's `tokenizer.model`): the protobuf ModelProto of
// sentencepiece_model.proto, read with our own wire-format reader. Only the
// fields a tokenizer needs are kept; unknown fields are skipped as protobuf
// does. Every malformed field is DataLoss naming the byte offset of its tag.
// The writer (WriteSentencePieceModel) emits the same fields, in
// sentencepiece_model.proto's field order, as spm_train saves them.
//
// Thread-safety: stateless.
#ifndef LLMTK_LIB_FORMATS_SENTENCEPIECE_MODEL_H_
#define LLMTK_LIB_FORMATS_SENTENCEPIECE_MODEL_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lib/base/status.h"

namespace llmtk {

// ModelProto.SentencePiece.Type.
enum class SpmPieceType : int { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

struct SpmPiece {
  std::string piece;
  float score = 0;
  SpmPieceType type = SpmPieceType::kNormal;
};

// TrainerSpec.ModelType.
enum class SpmModelType : int { kUnigram = 1, kBpe = 2, kWord = 3, kChar = 4 };

// The TrainerSpec fields that change encoding or name special pieces
// (proto defaults when absent).
struct SpmTrainerSpec {
  SpmModelType model_type = SpmModelType::kUnigram;
  int32_t vocab_size = 8000;
  bool treat_whitespace_as_suffix = false;
  bool allow_whitespace_only_pieces = false;
  bool split_digits = false;
  bool byte_fallback = false;
  int32_t unk_id = 0, bos_id = 1, eos_id = 2, pad_id = -1;
  std::string unk_piece = "<unk>", bos_piece = "<s>", eos_piece = "</s>", pad_piece = "<pad>";
  std::string unk_surface = " \xE2\x81\x87 ";
  std::vector<std::string> control_symbols, user_defined_symbols;
};

struct SpmNormalizerSpec {
  bool present = false;  // the message was in the file
  std::string name;
  std::string precompiled_charsmap;
  bool add_dummy_prefix = true;
  bool remove_extra_whitespaces = true;
  bool escape_whitespaces = true;
  std::string normalization_rule_tsv;
};

struct SentencePieceModel {
  std::vector<SpmPiece> pieces;
  SpmTrainerSpec trainer;
  SpmNormalizerSpec normalizer;
  SpmNormalizerSpec denormalizer;
};

// Parses a ModelProto. DataLoss "NAME: malformed SentencePiece model at
// byte N (what)" for a truncated or ill-typed field, and for a file with no
// pieces.
absl::StatusOr<SentencePieceModel> ReadSentencePieceModel(std::string_view bytes, std::string_view name);

// Serializes `m` as a ModelProto: pieces (type only when not NORMAL, as
// protobuf leaves out defaults spm_train never sets), the trainer_spec fields
// above, normalizer_spec and (when present) denormalizer_spec. Reading the
// result back gives `m` again.
std::string WriteSentencePieceModel(const SentencePieceModel& m);

}  // namespace llmtk

#endif  // LLMTK_LIB_FORMATS_SENTENCEPIECE_MODEL_H_
