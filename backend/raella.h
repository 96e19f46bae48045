/* RAELLA (Andrulis, Emer, Sze, ISCA 2023) as switches of the backend.
 *
 *   - Center+Offset (encoding = center): backend/crossbar/program.c picks
 *     the centers; this file reports them (xb_raella_centers_json).
 *   - Per-layer weight slicing: crossbar.layer_slices = "I=W/W/..;I=.."
 *     by hand (I a matrix-layer index, negative from the end; widths MSB
 *     first as crossbar.slices), or crossbar.slices = auto, which picks per
 *     layer the fewest slices whose layer-output error on the calibration
 *     images stays within crossbar.slice_error (backend/autoslice.c).
 *   - Speculative input slicing with recovery: dac.speculation = true
 *     streams each input in the wide slices of dac.speculation_slices;
 *     every (row block, column, position) whose speculative conversion
 *     saturates is recomputed with dac.bits-wide slices for that column
 *     only (backend/crossbar/speculate.c).  Conversions are counted as they
 *     happen and the cost model charges the measured count.
 * docs/ARCH.md documents the fields, docs/BACKEND.md the model,
 * docs/REPRODUCTION.md the measurements. */
#ifndef XBAR_RAELLA_H
#define XBAR_RAELLA_H

#include <stdbool.h>

#include <stddef.h>
#include <stdio.h>

#include "backend/arch.h"
#include "backend/compile.h"
#include "backend/crossbar/crossbar.h"

struct cJSON;
struct xb_backend;

/* Field checks (syntax of crossbar.layer_slices, dac.speculation_slices,
 * what speculation can run with); xb_arch_validate calls it. */
xb_status xb_raella_validate(const xb_arch *a, xb_ctx *ctx);
/* crossbar.slices = auto. */
bool xb_raella_auto_slices(const xb_arch *a);
/* Every crossbar.layer_slices index names one of n layers, and every
 * entry's widths fit the cell and add up to the magnitude bits. */
xb_status xb_raella_check_layers(const xb_arch *a, int n, xb_ctx *ctx);
/* Slice widths of layer `layer` of n, LSB first, into w[16]: its
 * crossbar.layer_slices entry, else crossbar.slices; returns the count, or
 * 0 when the slicing is uniform (bits_per_cell each). */
int xb_raella_layer_slices(const xb_arch *a, int layer, int n, int *w);
/* Number of weight slices of that layer. */
int xb_raella_layer_weight_slices(const xb_arch *a, int layer, int n);
/* Speculative input slice widths, LSB first, into w[8]; their count (0
 * when speculation is off). */
int xb_raella_spec_widths(const xb_arch *a, int *w);
/* The per-layer slicing and the speculation fields of a crossbar
 * configuration (after xb_crossbar_config_from_arch). */
void xb_raella_config(const xb_arch *a, int layer, int n, xb_crossbar_config *c);
/* Mapping counts of a layer under speculation (compile.c): crossbar reads,
 * DAC activations and cells driven for the speculative and the recovery
 * cycles, conversions of the speculative pass (the backend replaces them
 * with the measured count after a run), and the extra DAC energy of
 * multi-bit speculative slices. */
void xb_raella_map_layer(const xb_arch *a, xb_layer_map *l);
/* After a run: each speculating layer's conversions per inference become
 * the measured ones (speculative + recovery). */
void xb_raella_update_map(struct xb_backend *b);

/* Reports: per layer the slicing ("4/2/1", MSB first), the centers, the
 * speculation counts.  `o` is the layer's JSON object. */
void xb_raella_layer_json(const struct xb_backend *b, int layer, struct cJSON *o);
/* Text report: per layer the slicing, mean |center|, recovery rate and
 * the auto candidates' errors, when any RAELLA switch is on. */
void xb_raella_print(FILE *f, const struct xb_backend *b);
/* Slicing of layer i as text, MSB first ("4/2/1"), into buf. */
void xb_raella_slicing_text(const xb_crossbar_config *c, char *buf, size_t n);
/* `xbar compile --json` with encoding = center: per layer the centers the
 * build would choose for the quantized weights of graph qg. */
struct cJSON *xb_raella_centers_json(const xb_arch *a, const xb_graph *qg, xb_ctx *ctx);

/* crossbar.slices = auto (backend/autoslice.c). */
typedef struct xb_autoslice xb_autoslice;
xb_autoslice *xb_autoslice_new(struct xb_backend *b, const xb_graph *g, xb_ctx *ctx);
void xb_autoslice_free(xb_autoslice *s);
/* Scratch one observe call needs (the engine sizes the worker scratch). */
size_t xb_autoslice_scratch_bytes(const xb_autoslice *s);
/* During calibration, after layer `layer` computed acc: every candidate
 * slicing converts the same x; its error against the exact product is
 * recorded, and acc becomes the exact product, so every layer is measured
 * on exact inputs. */
void xb_autoslice_observe(xb_autoslice *s, int layer, int group, const uint8_t *x, int64_t P,
                          int64_t image, int32_t *acc, void *scratch);
/* After calibration: choose per layer, swap in the chosen layers, record
 * the choice in the backend's arch (crossbar.layer_slices) and re-map. */
xb_status xb_autoslice_finish(struct xb_backend *b, xb_ctx *ctx);
/* Per layer: candidate count, and for candidate k its slicing and the
 * measured relative RMS error (reports). */
int xb_autoslice_candidates(const xb_autoslice *s, int layer);
double xb_autoslice_error(const xb_autoslice *s, int layer, int k, char *slicing, size_t n);

#endif
