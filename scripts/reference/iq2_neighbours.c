/* The search tables of ggml's iq2xs_init_impl, computed the way it
 * computes them (every off-grid pattern's distances to all grid points,
 * qsort by distance then index, all points up to the nwant-th distinct
 * distance), written as raw little-endian bytes: the map (int32 per
 * pattern, 43692 of them), then the neighbour lists (uint16). Their
 * SHA-256 is what tests/quant_iq2s_test.cc expects of lib/ggml/iq_search.h.
 * Reads the grid's codes (kgrid_2bit_256/512/1024 of ggml-quants.c, as
 * decimal numbers) on stdin:
 *   cc -O2 -o iq2n scripts/reference/iq2_neighbours.c
 *   ./iq2n NWANT < codes.txt | sha256sum      (NWANT: 1 for IQ2_S, else 2)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum { kMapSize = 43692 };

static int by_distance_then_index(const void* a, const void* b) {
  const int* l = a;
  const int* r = b;
  if (l[0] != r[0]) return l[0] < r[0] ? -1 : 1;
  return l[1] < r[1] ? -1 : l[1] > r[1];
}

int main(int argc, char** argv) {
  const int nwant = argc > 1 ? atoi(argv[1]) : 2;
  static unsigned codes[4096];
  int n = 0;
  while (n < 4096 && scanf("%u", &codes[n]) == 1) ++n;
  static int map[kMapSize];
  for (int i = 0; i < kMapSize; ++i) map[i] = -1;
  for (int k = 0; k < n; ++k) map[codes[k]] = k;
  int* dist = malloc(2 * sizeof(int) * n);
  uint16_t* nb = malloc(sizeof(uint16_t) * (size_t)kMapSize * (n + 1));
  size_t used = 0;
  for (int i = 0; i < kMapSize; ++i) {
    if (map[i] >= 0) continue;
    for (int j = 0; j < n; ++j) {
      int d2 = 0;
      for (int k = 0; k < 8; ++k) {
        const int diff = 2 * (int)((codes[j] >> 2 * k) & 3) - 2 * ((i >> 2 * k) & 3);
        d2 += diff * diff;
      }
      dist[2 * j] = d2;
      dist[2 * j + 1] = j;
    }
    qsort(dist, n, 2 * sizeof(int), by_distance_then_index);
    map[i] = -(int)(used + 1);
    const size_t start = used++;
    int have = 1, last = dist[0];
    for (int j = 0; j < n; ++j) {
      if (dist[2 * j] > last) {
        if (have == nwant) break;
        last = dist[2 * j];
        ++have;
      }
      nb[used++] = (uint16_t)dist[2 * j + 1];
    }
    nb[start] = (uint16_t)(used - start - 1);
  }
  fwrite(map, sizeof(int), kMapSize, stdout);
  fwrite(nb, sizeof(uint16_t), used, stdout);
  return 0;
}
