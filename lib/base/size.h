// base/size: sizes and counts as command lines write them -- a number with a
// unit suffix ("24GiB", "1.5 GB", "81559MiB", "200M", "2GB").
//
// One grammar for every tool: optional leading whitespace, a non-negative
// finite number (strtod's syntax), optional separators, then a suffix from
// the caller's table, case-insensitively, or none. The tables say what a
// suffix means where: memory sizes (kByteUnits: binary KiB..TiB, decimal
// KB..TB, G = GiB as GPU specs use it; "24 GiB", "24_GiB" or "24-GiB") and
// counts of documents, bytes or tokens (kCountUnits: decimal k, M, G, T,
// each with an optional B; whitespace before the suffix). Callers word their
// own errors from SizeError.
//
// Thread-safety: pure functions and constant tables.
#ifndef LLMTK_LIB_BASE_SIZE_H_
#define LLMTK_LIB_BASE_SIZE_H_

#include <string_view>

#include "absl/types/span.h"

namespace llmtk {

struct SizeUnit {
  std::string_view suffix;  // lower case; "" is the bare number
  double scale;
};

inline constexpr SizeUnit kByteUnits[] = {
    {"", 1},
    {"b", 1},
    {"kib", 1024.0},
    {"mib", 1024.0 * 1024},
    {"gib", 1024.0 * 1024 * 1024},
    {"g", 1024.0 * 1024 * 1024},
    {"tib", 1024.0 * 1024 * 1024 * 1024},
    {"kb", 1e3},
    {"mb", 1e6},
    {"gb", 1e9},
    {"tb", 1e12},
};

inline constexpr SizeUnit kCountUnits[] = {
    {"", 1},    {"b", 1},    {"k", 1e3},  {"kb", 1e3},  {"m", 1e6},
    {"mb", 1e6}, {"g", 1e9}, {"gb", 1e9}, {"t", 1e12}, {"tb", 1e12},
};

inline constexpr std::string_view kByteSeparators = " _-";
inline constexpr std::string_view kCountSeparators = " \t\n\v\f\r";

enum class SizeError { kNone, kNumber /* no non-negative finite number */, kUnit /* unknown suffix */ };

// Sets *value to the number times its suffix's scale (unchecked for range:
// callers bound it to their type). Any run of `separators` may stand between
// the number and the suffix.
SizeError ParseSize(std::string_view text, absl::Span<const SizeUnit> units, std::string_view separators,
                    double* value);

}  // namespace llmtk

#endif  // LLMTK_LIB_BASE_SIZE_H_
