static const bnn::Thresholds<1, 1, 1, int, 0> L_BipolarQuant_4_MT_act = {
{{{128}}},
{{0}}};
