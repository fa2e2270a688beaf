// Loading a SentencePiece .model (formats/sentencepiece_model.h) into
// TokenizerParts, as sentencepiece's SentencePieceProcessor sets itself up:
// its normalizer on the whole text (no pre-tokenizer, no added tokens:
// spm_encode never matches control pieces in text), then the Unigram or BPE
// model, which keeps user-defined symbols whole.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/formats/sentencepiece_model.h"
#include "lib/tokenizer/spm_bpe.h"
#include "lib/tokenizer/tokenizer.h"
#include "lib/tokenizer/unigram.h"

namespace llmtk {
namespace {

// model_interface.cc's checks on the pieces, with the same meaning.
absl::Status CheckPieces(const SentencePieceModel& m, const std::string& src) {
  int unk = -1;
  std::vector<bool> bytes(256, false);
  for (size_t i = 0; i < m.pieces.size(); ++i) {
    const SpmPiece& p = m.pieces[i];
    if (p.piece.empty()) return absl::DataLossError(absl::StrCat(src, ": piece ", i, " is empty"));
    if (p.type == SpmPieceType::kUnknown) {
      if (unk >= 0) return absl::DataLossError(absl::StrCat(src, ": pieces ", unk, " and ", i, " are both UNKNOWN"));
      unk = static_cast<int>(i);
    }
    if (p.type == SpmPieceType::kByte) {
      if (!m.trainer.byte_fallback) {
        return absl::DataLossError(absl::StrCat(src, ": byte piece ", i, " \"", p.piece,
                                                "\" although trainer_spec.byte_fallback is false"));
      }
      unsigned b = 0;
      if (p.piece.size() != 6 || std::sscanf(p.piece.c_str(), "<0x%2X>", &b) != 1) {
        return absl::DataLossError(absl::StrCat(src, ": byte piece ", i, " \"", p.piece, "\" is not <0xXX>"));
      }
      bytes[b] = true;
    }
  }
  if (unk < 0) return absl::DataLossError(absl::StrCat(src, ": no piece of type UNKNOWN (unk is not defined)"));
  if (m.trainer.byte_fallback) {
    for (int b = 0; b < 256; ++b) {
      if (!bytes[b]) {
        return absl::DataLossError(absl::StrFormat("%s: byte_fallback is set but there is no <0x%02X> piece", src, b));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::FromSentencePiece(std::string_view bytes,
                                                                        const std::string& src) {
  ASSIGN_OR_RETURN(SentencePieceModel m, ReadSentencePieceModel(bytes, src));
  const SpmModelType type = m.trainer.model_type;
  if (type != SpmModelType::kUnigram && type != SpmModelType::kBpe) {
    return absl::UnimplementedError(absl::StrCat(src, ": SentencePiece model_type ",
                                                 type == SpmModelType::kWord ? "WORD" : "CHAR",
                                                 " is not supported (UNIGRAM and BPE are)"));
  }
  RETURN_IF_ERROR(CheckPieces(m, src));

  TokenizerParts parts;
  parts.source = src;
  parts.format = "sentencepiece";
  std::vector<std::string> user_defined;
  for (size_t i = 0; i < m.pieces.size(); ++i) {
    const SpmPiece& p = m.pieces[i];
    const uint32_t id = static_cast<uint32_t>(i);
    if (p.type == SpmPieceType::kUserDefined) user_defined.push_back(p.piece);
    if (p.type == SpmPieceType::kUnknown) parts.unk_id = id;
    if (p.type == SpmPieceType::kControl && p.piece == m.trainer.bos_piece) parts.bos_id = id;
    if (p.type == SpmPieceType::kControl && p.piece == m.trainer.eos_piece) parts.eos_id = id;
  }

  ASSIGN_OR_RETURN(PrecompiledCharsmap charsmap, PrecompiledCharsmap::Parse(m.normalizer.precompiled_charsmap, src));
  SpmNormalizerOptions no;
  no.add_dummy_prefix = m.normalizer.add_dummy_prefix;
  no.remove_extra_whitespaces = m.normalizer.remove_extra_whitespaces;
  no.escape_whitespaces = m.normalizer.escape_whitespaces;
  no.treat_whitespace_as_suffix = m.trainer.treat_whitespace_as_suffix;
  NormalizerStep ns;
  ns.kind = NormalizerStep::Kind::kSentencePiece;
  ns.spm = std::make_shared<SpmNormalizer>(std::move(charsmap), no, user_defined);
  parts.normalizer.Add(std::move(ns));

  if (type == SpmModelType::kUnigram) {
    std::vector<UnigramPiece> pieces;
    pieces.reserve(m.pieces.size());
    for (const SpmPiece& p : m.pieces) {
      UnigramPiece u;
      u.text = p.piece;
      u.score = p.score;
      u.kind = p.type == SpmPieceType::kNormal        ? UnigramPiece::Kind::kNormal
               : p.type == SpmPieceType::kUserDefined ? UnigramPiece::Kind::kUserDefined
               : p.type == SpmPieceType::kUnused      ? UnigramPiece::Kind::kUnused
                                                      : UnigramPiece::Kind::kNotInLattice;
      pieces.push_back(std::move(u));
    }
    UnigramOptions uo;
    uo.sentencepiece = true;
    uo.byte_fallback = m.trainer.byte_fallback;
    uo.unk_id = parts.unk_id;
    ASSIGN_OR_RETURN(parts.model, UnigramModel::Build(std::move(pieces), uo, src));
  } else {
    ASSIGN_OR_RETURN(parts.model, SpmBpeModel::Build(m.pieces, m.trainer.byte_fallback, src));
  }

  // Decoding as spm_decode: control pieces vanish, unk reads as unk_surface,
  // U+2581 is a space, <0xXX> pieces are bytes.
  parts.token_text.reserve(m.pieces.size());
  parts.decode_text.reserve(m.pieces.size());
  for (const SpmPiece& p : m.pieces) {
    parts.token_text.push_back(p.piece);
    parts.decode_text.push_back(p.type == SpmPieceType::kControl   ? std::string()
                                : p.type == SpmPieceType::kUnknown ? m.trainer.unk_surface
                                                                   : p.piece);
  }
  // spm_decode 0.1.97 drops the dummy prefix only as a prefix: with
  // treat_whitespace_as_suffix it keeps the trailing space.
  if (no.add_dummy_prefix && !no.treat_whitespace_as_suffix) {
    parts.decoder.Add(DecoderStep{DecoderStep::Kind::kSpmPrefix, "", std::string(kSpmSpace), 0, 0, true});
  }
  parts.decoder.Add(DecoderStep{DecoderStep::Kind::kReplace, std::string(kSpmSpace), " ", 0, 0, true});
  parts.decoder.Add(DecoderStep{DecoderStep::Kind::kByteFallback, "", "", 0, 0, true});
  parts.decoder.Add(DecoderStep{DecoderStep::Kind::kFuse, "", "", 0, 0, true});
  parts.description = absl::StrCat("SentencePiece ", type == SpmModelType::kUnigram ? "Unigram" : "BPE",
                                   m.trainer.byte_fallback ? ", byte fallback" : "",
                                   m.normalizer.name.empty() ? "" : absl::StrCat(", normalizer ", m.normalizer.name));
  return std::make_unique<Tokenizer>(std::move(parts));
}

}  // namespace llmtk
