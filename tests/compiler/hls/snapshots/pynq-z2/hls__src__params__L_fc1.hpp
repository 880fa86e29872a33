static const bnn::PackedWeights<2, 16, 4> L_fc1_w = {
{{{0x9ULL}, {0x0ULL}, {0xdULL}, {0x7ULL}, {0x1ULL}, {0x0ULL}, {0x3ULL}, {0x6ULL}, {0xfULL}, {0x8ULL}, {0x7ULL}, {0x2ULL}, {0xeULL}, {0x2ULL}, {0x4ULL}, {0x9ULL}}, {{0x3ULL}, {0xeULL}, {0xeULL}, {0xeULL}, {0x4ULL}, {0x8ULL}, {0x4ULL}, {0xdULL}, {0x2ULL}, {0x8ULL}, {0x4ULL}, {0x6ULL}, {0x7ULL}, {0x9ULL}, {0x7ULL}, {0x1ULL}}}};
#pragma HLS ARRAY_PARTITION variable = L_fc1_w.words complete dim = 1
static const bnn::Thresholds<4, 2, 1, int, 0> L_fc1_act = {
{{{-3}, {-1}, {-1}, {-2}}, {{4}, {4}, {-4}, {-1}}},
{{1, 0, 1, 1}, {0, 0, 1, 0}}};
#pragma HLS ARRAY_PARTITION variable = L_fc1_act.thr complete dim = 1
#pragma HLS ARRAY_PARTITION variable = L_fc1_act.neg complete dim = 1
