#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "eval/dataset.h"
#include "eval/dataset_int.h"

Test(image_resize, geometry) {
    xb_image_opts io = {.resize = 32};
    int h, w;
    cr_assert(xb_image_geometry(&io, 48, 64, &h, &w));
    cr_assert(h == 32 && w == 42, "%dx%d", h, w); /* 64 * 32 / 48 = 42.67, rounded down */
    cr_assert(xb_image_geometry(&io, 100, 50, &h, &w));
    cr_assert(h == 64 && w == 32);
    io.crop = 32;
    cr_assert(xb_image_fits(&io, 48, 64, 32, 32));
    cr_assert_not(xb_image_fits(&io, 48, 64, 28, 28));
    io = (xb_image_opts){.crop = 40};
    cr_assert_not(xb_image_geometry(&io, 32, 64, &h, &w)); /* crop larger than the image */
    cr_assert(xb_image_fits(NULL, 5, 6, 5, 6));
}

Test(image_resize, bilinear_half_pixel_and_crop) {
    xb_ctx ctx = {0};
    /* 2 x 4 -> resize 1 -> 1 x 2: each output is the mean of a 2x2 block
     * (half-pixel centres land between the pixels), rounded */
    uint8_t *px = malloc(8);
    const uint8_t src[8] = {0, 10, 20, 30, 100, 110, 120, 131};
    memcpy(px, src, 8);
    int h = 2, w = 4;
    xb_image_opts io = {.resize = 1};
    cr_assert_eq(xb_image_transform(&io, &px, 1, &h, &w, "x", &ctx), XB_OK, "%s", ctx.msg);
    cr_assert(h == 1 && w == 2);
    cr_assert_eq(px[0], 55);  /* (0 + 10 + 100 + 110) / 4 */
    cr_assert_eq(px[1], 75);  /* (20 + 30 + 120 + 131) / 4 = 75.25 */
    free(px);

    /* centre crop 2 of 4 x 5 (h x w): top (4-2)/2 = 1, left (5-2)/2 = 1.5
     * rounded half to even = 2, as torchvision's center_crop */
    px = malloc(20);
    for (int i = 0; i < 20; i++) px[i] = (uint8_t)i;
    h = 4;
    w = 5;
    io = (xb_image_opts){.crop = 2};
    cr_assert_eq(xb_image_transform(&io, &px, 1, &h, &w, "x", &ctx), XB_OK, "%s", ctx.msg);
    cr_assert(h == 2 && w == 2);
    const uint8_t want[4] = {7, 8, 12, 13};
    cr_assert_arr_eq(px, want, 4);
    free(px);

    /* enlarging: 1 x 2 -> resize 2 -> 2 x 4, edges clamped:
     * x' = 0..3 -> x = -0.25 (0), 0.25, 0.75, 1.25 (1) */
    px = malloc(2);
    px[0] = 0;
    px[1] = 200;
    h = 1;
    w = 2;
    io = (xb_image_opts){.resize = 2};
    cr_assert_eq(xb_image_transform(&io, &px, 1, &h, &w, "x", &ctx), XB_OK, "%s", ctx.msg);
    cr_assert(h == 2 && w == 4);
    const uint8_t up[8] = {0, 50, 150, 200, 0, 50, 150, 200};
    cr_assert_arr_eq(px, up, 8);
    free(px);
}
