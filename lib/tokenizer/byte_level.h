// tokenizer/byte_level: GPT-2's byte-level alphabet (bytes_to_unicode), the
// reversible map that gives each of the 256 bytes a printable character, so
// byte-level BPE vocabularies (tokenizer.json, GGUF "gpt2") can spell any
// byte sequence as text: printable Latin-1 bytes stand for themselves, the
// others are shifted to U+0100.. in byte order.
//
// Thread-safety: the table is built once, on first use; every function is
// safe from any thread.
#ifndef LLMTK_LIB_TOKENIZER_BYTE_LEVEL_H_
#define LLMTK_LIB_TOKENIZER_BYTE_LEVEL_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace llmtk {

// The UTF-8 of the character standing for byte b, indexed by b.
const std::array<std::string, 256>& ByteLevelAlphabet();
inline const std::string& ByteLevelChar(uint8_t b) { return ByteLevelAlphabet()[b]; }
// The byte a byte-level character stands for, or -1.
int ByteLevelByte(char32_t cp);
// Maps a byte-level string back to bytes; false if some character is not in
// the alphabet (the output then holds those characters' UTF-8 unchanged).
bool ByteLevelToBytes(std::string_view mapped, std::string* out);
// Maps raw bytes to their byte-level characters.
std::string BytesToByteLevel(std::string_view bytes);

}  // namespace llmtk

#endif  // LLMTK_LIB_TOKENIZER_BYTE_LEVEL_H_
