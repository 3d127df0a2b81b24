#include "threshold_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QScrollArea>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QStyle>
#include <QVBoxLayout>

namespace mq::ui {

namespace {

// A combo box whose width does not follow its longest entry (a few characters, elided), so the
// panel fits a narrow dock. Set before any item: QComboBox caches its minimum size hint.
QComboBox* narrowCombo(QWidget* parent)
{
    auto* c = new QComboBox(parent);
    c->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    c->setMinimumContentsLength(10);
    return c;
}
QString joinKinds(const std::vector<std::string>& kinds)
{
    QStringList l;
    for (const std::string& k : kinds)
        l << QString::fromStdString(k);
    return l.join(QStringLiteral(", "));
}

std::vector<std::string> splitKinds(const QString& text)
{
    std::vector<std::string> out;
    for (const QString& part : text.split(QRegularExpression(QStringLiteral("[,\\s]+")), Qt::SkipEmptyParts))
        out.push_back(part.toStdString());
    return out;
}

QDoubleSpinBox* doubleBox(QWidget* parent, double lo, double hi, double step, int decimals, const QString& tip)
{
    auto* b = new QDoubleSpinBox(parent);
    b->setRange(lo, hi);
    b->setSingleStep(step);
    b->setDecimals(decimals);
    b->setKeyboardTracking(false); // one recompute per finished edit, not per keystroke
    b->setToolTip(tip);
    return b;
}

bool sameWeight(const core::WeightQuantSpec& a, const core::WeightQuantSpec& b)
{
    return a.format == b.format && a.bits == b.bits && a.groupSize == b.groupSize && a.symmetric == b.symmetric
        && a.nf4Block == b.nf4Block && a.nf4DoubleQuant == b.nf4DoubleQuant;
}

bool sameMdqfo(const core::MdqfoSettings& a, const core::MdqfoSettings& b)
{
    return a.enabled == b.enabled && a.solver == b.solver && a.p == b.p && a.lambdaCos == b.lambdaCos
        && a.ratios == b.ratios && a.rMin == b.rMin && a.rMax == b.rMax && a.emaDecay == b.emaDecay
        && a.batchTokens == b.batchTokens && a.adamSteps == b.adamSteps && a.adamLr == b.adamLr;
}

// The activation scheme a plan built with s uses (preparePlan: the method implies it; RTN keeps a
// per-tensor choice), so that the panel's explicit choice and a plan's derived one compare.
core::ActScheme effectiveAct(const core::QuantSettings& s)
{
    if (s.abits >= 16)
        return core::ActScheme::None;
    if (s.method == "morphoquant")
        return core::ActScheme::PerChannelStatic;
    return core::isPerTensor(s.act) ? s.act : core::ActScheme::PerTokenDynamic;
}

// The settings only a new quantization applies: method, bits, formats, activation scheme, GPTQ.
bool sameRequantizeFields(const core::QuantSettings& a, const core::QuantSettings& b)
{
    return a.method == b.method && a.abits == b.abits && sameWeight(a.weight, b.weight) && a.actFormat == b.actFormat
        && effectiveAct(a) == effectiveAct(b) && a.actGroupSize == b.actGroupSize
        && a.gptq.enabled == b.gptq.enabled && a.gptq.fpTarget == b.gptq.fpTarget && a.mode == b.mode
        && a.quantizeEncoders == b.quantizeEncoders;
}

// Fields of DabcSettings that computeMasks reads (rho acts in the simulation only).
bool sameMaskFields(const core::DabcSettings& a, const core::DabcSettings& b)
{
    return a.enabled == b.enabled && a.k == b.k && a.useLocal == b.useLocal && a.useGlobal == b.useGlobal
        && a.form == b.form && a.anyModality == b.anyModality && a.forceKinds == b.forceKinds
        && a.maxShare == b.maxShare;
}
} // namespace

ThresholdPanel::ThresholdPanel(QWidget* parent) : QWidget(parent)
{
    // DABC
    m_dabcOn = new QCheckBox(tr("Compensate outlier channels (DABC)"), this);
    m_k = doubleBox(this, 0.0, 10.0, 0.1, 2, tr("\u03c4 = \u03bc + k\u00b7\u03c3 of the dispersion scores D<sub>c</sub>"));
    m_local = new QCheckBox(tr("Local (this group's channels)"), this);
    m_global = new QCheckBox(tr("Global (all groups' channels)"), this);
    m_form = narrowCombo(this);
    m_form->addItem(tr("Code: |max-min| / log(1 + mean|x|)"), int(core::DispersionForm::Code));
    m_form->addItem(tr("Paper: |max-min| / log(||x||_1)"), int(core::DispersionForm::Paper));
    m_source = narrowCombo(this);
    m_source->addItem(tr("Pooled over modalities"), false);
    m_source->addItem(tr("Outlier in any modality"), true);
    m_force = new QLineEdit(this);
    m_force->setPlaceholderText(tr("none (pure Eq. 6)"));
    m_force->setToolTip(tr("Module kinds whose input is masked entirely, comma separated (e.g. down_proj)"));
    m_rho = doubleBox(this, 0.0, 1.0, 0.05, 2,
                      tr("Compensate only elements with |x| &gt; \u03c1\u00b7\u03b1<sub>c</sub> (0: every element of a masked "
                         "channel); takes effect at the next quantization"));

    // MDQFO
    m_mdqfoOn = new QCheckBox(tr("Optimize clipping bounds (MDQFO)"), this);
    m_solver = narrowCombo(this);
    m_solver->addItem(tr("Grid search over ratios"), int(core::MdqfoSolver::GridSearch));
    m_solver->addItem(tr("Adam on \u03b1"), int(core::MdqfoSolver::Adam));
    m_p = doubleBox(this, 0.1, 8.0, 0.5, 2, tr("Exponent of the L_p morphology term (paper 0.5; authors' configs 2, 3)"));
    m_lambda = doubleBox(this, 0.0, 10.0, 0.1, 2, tr("Weight of the cosine term L_cos"));

    // Bits
    m_method = narrowCombo(this);
    m_method->addItem(tr("MorphoQuant (DABC + MDQFO, static per-channel activations)"), QStringLiteral("morphoquant"));
    m_method->addItem(tr("RTN (per-token dynamic activations)"), QStringLiteral("rtn"));
    m_wformat = narrowCombo(this);
    m_wformat->addItem(tr("Integer, symmetric"), int(core::WeightFormat::Int));
    m_wformat->addItem(tr("NF4"), int(core::WeightFormat::NF4));
    m_wformat->addItem(tr("NVFP4 (16-blocks, E4M3 scales)"), int(core::WeightFormat::NVFP4));
    m_wformat->addItem(tr("MXFP4 (32-blocks, power-of-two scales)"), int(core::WeightFormat::MXFP4));
    m_wformat->addItem(tr("HiFloat4 (64-units, micro-exponents)"), int(core::WeightFormat::HiF4));
    m_wformat->addItem(tr("Unquantized (W16)"), int(core::WeightFormat::None));
    m_wbits = new QSpinBox(this);
    m_wbits->setRange(2, 8);
    m_wbits->setPrefix(QStringLiteral("W"));
    m_wbits->setKeyboardTracking(false);
    m_group = new QSpinBox(this);
    m_group->setRange(0, 4096);
    m_group->setSingleStep(32);
    m_group->setSpecialValueText(tr("per output channel"));
    m_group->setKeyboardTracking(false);
    m_group->setToolTip(tr("Weight scale group size along the input dimension (0: one scale per output channel)"));
    m_abits = narrowCombo(this);
    for (int b : {2, 3, 4, 6, 8})
        m_abits->addItem(QStringLiteral("A%1").arg(b), b);
    m_abits->addItem(tr("A16 (unquantized)"), 16);
    m_aformat = narrowCombo(this);
    m_aformat->addItem(tr("Integer"), int(core::ActFormat::Int));
    m_aformat->addItem(tr("NVFP4"), int(core::ActFormat::NVFP4));
    m_aformat->addItem(tr("MXFP4"), int(core::ActFormat::MXFP4));
    m_aformat->addItem(tr("HiFloat8 (A8)"), int(core::ActFormat::HiF8));
    m_aformat->addItem(tr("HiFloat4"), int(core::ActFormat::HiF4));
    m_aformat->setToolTip(tr("Per-token activation format (RTN only); the block formats are 4-bit, HiFloat8 8-bit"));
    m_ascheme = narrowCombo(this);
    m_ascheme->addItem(tr("Per token (dynamic)"), QStringLiteral("per-token-dynamic"));
    m_ascheme->addItem(tr("Per tensor (static, calibration range)"), QStringLiteral("per-tensor-static"));
    m_ascheme->addItem(tr("Per tensor (dynamic, each forward)"), QStringLiteral("per-tensor-dynamic"));
    m_ascheme->setToolTip(tr("How many scales RTN's integer activations get: one per token, or one per input group "
                             "(from the calibration's range, or from each forward's)"));
    m_agroup = new QSpinBox(this);
    m_agroup->setRange(0, 4096);
    m_agroup->setSingleStep(16);
    m_agroup->setSpecialValueText(tr("whole token"));
    m_agroup->setKeyboardTracking(false);
    m_agroup->setToolTip(tr("Per-token integer activations: a scale per group of this many channels of each token "
                            "(0: one per token); each scale costs 16 bits"));
    m_gptq = new QCheckBox(tr("Weights by GPTQ"), this);
    m_gptq->setToolTip(tr("Round each Linear's weights column by column, spreading the error through the inverse "
                          "Hessian of its calibration inputs"));
    m_mode = narrowCombo(this);
    m_mode->addItem(tr("Simulated (weights and activations fake-quantized apart)"), QStringLiteral("simulated"));
    m_mode->addItem(tr("Deployable (activation scales folded into the weights)"), QStringLiteral("deployable"));
    m_mode->setToolTip(tr("Deployable: each static per-channel activation scale is folded into the weight before it "
                          "is rounded, so an integer GEMM can run the plan (MorphoQuant with quantized activations "
                          "and weights, without GPTQ)"));
    m_encoders = new QCheckBox(tr("Quantize the encoders too"), this);
    m_encoders->setToolTip(tr("Qwen2.5-Omni: the vision and audio encoders' Linears get these activations (DABC and "
                              "MDQFO on their own statistics) and weights rounded to nearest; simulated only, the "
                              "exports write the decoder. Needs a manifest calibration with images, audio or video."));
    m_gptqTarget = new QCheckBox(tr("Aim at the full-precision outputs"), this);
    m_gptqTarget->setToolTip(tr("GPTQ towards the full-precision model's outputs from the quantized model's inputs "
                                "(GPTAQ-style)"));
    m_recipe = new QLabel(this);
    m_recipe->setWordWrap(true);
    m_recipe->setTextInteractionFlags(Qt::TextSelectableByMouse);

    m_status = new QLabel(this);
    m_status->setWordWrap(true);
    m_quantize = new QPushButton(style()->standardIcon(QStyle::SP_MediaPlay), tr("Quantize"), this);
    m_quantize->setToolTip(tr("Build the plan with these settings for every layer (Study \u2192 Quantize)"));
    connect(m_quantize, &QPushButton::clicked, this, &ThresholdPanel::quantizeRequested);

    auto* dabc = new QGroupBox(tr("DABC"), this);
    auto* df = new QFormLayout(dabc);
    df->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    df->addRow(m_dabcOn);
    df->addRow(tr("k:"), m_k);
    df->addRow(tr("Thresholds:"), m_local);
    df->addRow(QString(), m_global);
    df->addRow(tr("Score:"), m_form);
    df->addRow(tr("Statistics:"), m_source);
    df->addRow(tr("Force kinds:"), m_force);
    df->addRow(tr("\u03c1:"), m_rho);
    auto* mdqfo = new QGroupBox(tr("MDQFO"), this);
    auto* mf = new QFormLayout(mdqfo);
    mf->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    mf->addRow(m_mdqfoOn);
    mf->addRow(tr("Solver:"), m_solver);
    mf->addRow(tr("p:"), m_p);
    mf->addRow(tr("\u03bb<sub>cos</sub>:"), m_lambda);
    auto* bits = new QGroupBox(tr("Bits and formats"), this);
    auto* bf = new QFormLayout(bits);
    bf->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    bf->addRow(tr("Method:"), m_method);
    bf->addRow(tr("Weights:"), m_wformat);
    bf->addRow(tr("Weight bits:"), m_wbits);
    bf->addRow(tr("Weight group:"), m_group);
    bf->addRow(tr("Activations:"), m_abits);
    bf->addRow(tr("Activation format:"), m_aformat);
    bf->addRow(tr("Activation scales:"), m_ascheme);
    bf->addRow(tr("Activation group:"), m_agroup);
    bf->addRow(m_gptq);
    bf->addRow(QString(), m_gptqTarget);
    bf->addRow(m_encoders);
    bf->addRow(tr("Mode:"), m_mode);
    bf->addRow(tr("Recipe:"), m_recipe);

    auto* inner = new QWidget(this);
    auto* v = new QVBoxLayout(inner);
    v->addWidget(dabc);
    v->addWidget(mdqfo);
    v->addWidget(bits);
    v->addStretch(1);
    auto* scroll = new QScrollArea(this);
    scroll->setWidget(inner);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    // Fit the dock's width (the combo boxes elide long entries: narrowCombo).
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    auto* outer = new QVBoxLayout(this);
    outer->setContentsMargins(2, 2, 2, 2);
    outer->addWidget(scroll, 1);
    auto* statusRow = new QHBoxLayout;
    statusRow->addWidget(m_status, 1);
    statusRow->addWidget(m_quantize);
    outer->addLayout(statusRow);

    core::QuantSettings initial;
    initial.method = "morphoquant";
    initial.weight.format = core::WeightFormat::Int;
    initial.weight.bits = 4;
    initial.abits = 4;
    setQuantSettings(initial);
    setPlanStatus(tr("No plan yet."), true);

    connect(m_dabcOn, &QCheckBox::toggled, this, &ThresholdPanel::onEdited);
    connect(m_k, &QDoubleSpinBox::valueChanged, this, &ThresholdPanel::onEdited);
    connect(m_local, &QCheckBox::toggled, this, &ThresholdPanel::onEdited);
    connect(m_global, &QCheckBox::toggled, this, &ThresholdPanel::onEdited);
    connect(m_form, &QComboBox::currentIndexChanged, this, &ThresholdPanel::onEdited);
    connect(m_source, &QComboBox::currentIndexChanged, this, &ThresholdPanel::onEdited);
    connect(m_force, &QLineEdit::editingFinished, this, &ThresholdPanel::onEdited);
    connect(m_rho, &QDoubleSpinBox::valueChanged, this, &ThresholdPanel::onEdited);
    connect(m_mdqfoOn, &QCheckBox::toggled, this, &ThresholdPanel::onEdited);
    connect(m_solver, &QComboBox::currentIndexChanged, this, &ThresholdPanel::onEdited);
    connect(m_p, &QDoubleSpinBox::valueChanged, this, &ThresholdPanel::onEdited);
    connect(m_lambda, &QDoubleSpinBox::valueChanged, this, &ThresholdPanel::onEdited);
    connect(m_method, &QComboBox::currentIndexChanged, this, &ThresholdPanel::onEdited);
    connect(m_wformat, &QComboBox::currentIndexChanged, this, &ThresholdPanel::onEdited);
    connect(m_wbits, &QSpinBox::valueChanged, this, &ThresholdPanel::onEdited);
    connect(m_group, &QSpinBox::valueChanged, this, &ThresholdPanel::onEdited);
    connect(m_abits, &QComboBox::currentIndexChanged, this, &ThresholdPanel::onEdited);
    connect(m_aformat, &QComboBox::currentIndexChanged, this, &ThresholdPanel::onEdited);
    connect(m_ascheme, &QComboBox::currentIndexChanged, this, &ThresholdPanel::onEdited);
    connect(m_agroup, &QSpinBox::valueChanged, this, &ThresholdPanel::onEdited);
    connect(m_gptq, &QCheckBox::toggled, this, &ThresholdPanel::onEdited);
    connect(m_gptqTarget, &QCheckBox::toggled, this, &ThresholdPanel::onEdited);
    connect(m_mode, &QComboBox::currentIndexChanged, this, &ThresholdPanel::onEdited);
    connect(m_encoders, &QCheckBox::toggled, this, &ThresholdPanel::onEdited);
}

void ThresholdPanel::setEncodersAvailable(bool available)
{
    if (available == m_encodersAvailable)
        return;
    m_encodersAvailable = available;
    updateEnabled();
}

void ThresholdPanel::setSettings(const core::DabcSettings& s)
{
    core::QuantSettings q = m_base;
    q.dabc = s;
    setQuantSettings(q);
}

void ThresholdPanel::setQuantSettings(const core::QuantSettings& s)
{
    const QSignalBlocker b1(m_k), b2(m_local), b3(m_global), b4(m_form), b5(m_source), b6(m_force), b7(m_dabcOn),
        b8(m_rho), b9(m_mdqfoOn), b10(m_solver), b11(m_p), b12(m_lambda), b13(m_method), b14(m_wformat),
        b15(m_wbits), b16(m_group), b17(m_abits), b18(m_aformat), b19(m_gptq), b20(m_gptqTarget), b21(m_mode),
        b22(m_ascheme), b23(m_agroup), b24(m_encoders);
    m_base = s;
    m_dabcOn->setChecked(s.dabc.enabled);
    m_k->setValue(s.dabc.k);
    m_local->setChecked(s.dabc.useLocal);
    m_global->setChecked(s.dabc.useGlobal);
    m_form->setCurrentIndex(m_form->findData(int(s.dabc.form)));
    m_source->setCurrentIndex(s.dabc.anyModality ? 1 : 0);
    m_force->setText(joinKinds(s.dabc.forceKinds));
    m_rho->setValue(s.dabc.rho);
    m_mdqfoOn->setChecked(s.mdqfo.enabled);
    m_solver->setCurrentIndex(m_solver->findData(int(s.mdqfo.solver)));
    m_p->setValue(s.mdqfo.p);
    m_lambda->setValue(s.mdqfo.lambdaCos);
    m_method->setCurrentIndex(std::max(0, m_method->findData(QString::fromStdString(s.method))));
    m_wformat->setCurrentIndex(m_wformat->findData(int(s.weight.format)));
    m_wbits->setValue(s.weight.bits);
    m_group->setValue(s.weight.groupSize);
    const int a = m_abits->findData(s.abits);
    if (a < 0) // a width without a preset entry (e.g. A5 from the CLI) gets one
        m_abits->addItem(QStringLiteral("A%1").arg(s.abits), s.abits);
    m_abits->setCurrentIndex(m_abits->findData(s.abits));
    m_aformat->setCurrentIndex(std::max(0, m_aformat->findData(int(s.actFormat))));
    m_ascheme->setCurrentIndex(std::max(0, m_ascheme->findData(QString::fromLatin1(
                                               core::isPerTensor(s.act) ? core::actSchemeName(s.act) : "per-token-dynamic"))));
    m_agroup->setValue(s.actGroupSize);
    m_gptq->setChecked(s.gptq.enabled);
    m_gptqTarget->setChecked(s.gptq.fpTarget);
    m_mode->setCurrentIndex(std::max(0, m_mode->findData(QString::fromStdString(s.mode))));
    m_encoders->setChecked(s.quantizeEncoders);
    updateEnabled();
}

core::QuantSettings ThresholdPanel::quantSettings() const
{
    core::QuantSettings s = m_base;
    s.dabc.enabled = m_dabcOn->isChecked();
    s.dabc.k = m_k->value();
    s.dabc.useLocal = m_local->isChecked();
    s.dabc.useGlobal = m_global->isChecked();
    s.dabc.form = core::DispersionForm(m_form->currentData().toInt());
    s.dabc.anyModality = m_source->currentData().toBool();
    s.dabc.forceKinds = splitKinds(m_force->text());
    s.dabc.rho = m_rho->value();
    s.mdqfo.enabled = m_mdqfoOn->isChecked();
    s.mdqfo.solver = core::MdqfoSolver(m_solver->currentData().toInt());
    s.mdqfo.p = m_p->value();
    s.mdqfo.lambdaCos = m_lambda->value();
    s.method = m_method->currentData().toString().toStdString();
    s.weight.format = core::WeightFormat(m_wformat->currentData().toInt());
    s.weight.bits = s.weight.format == core::WeightFormat::Int ? m_wbits->value() : 4;
    s.weight.groupSize = m_group->value();
    s.abits = m_abits->currentData().toInt();
    s.actFormat = core::ActFormat(m_aformat->currentData().toInt());
    if (s.method != "rtn")
        s.actFormat = core::ActFormat::Int;
    else if (s.actFormat == core::ActFormat::HiF8)
        s.abits = 8;
    else if (s.actFormat != core::ActFormat::Int)
        s.abits = 4;
    // RTN integer activations: per token (optionally per group of channels) or per tensor.
    const bool intTokens = s.method == "rtn" && s.actFormat == core::ActFormat::Int && s.abits < 16;
    const core::ActScheme chosen = core::parseActScheme(m_ascheme->currentData().toString().toStdString());
    if (s.method == "rtn")
        s.act = intTokens && core::isPerTensor(chosen) ? chosen : core::ActScheme::None;
    s.actGroupSize = intTokens && !core::isPerTensor(chosen) ? m_agroup->value() : 0;
    s.gptq.enabled = m_gptq->isChecked() && core::gptqRounds(s.weight.format);
    s.gptq.fpTarget = s.gptq.enabled && m_gptqTarget->isChecked();
    s.quantizeEncoders = m_encodersAvailable && m_encoders->isChecked();
    // Deployable needs static per-channel activation scales to fold, quantized weights, no GPTQ
    // and the encoders unquantized (the exports write the decoder only).
    const bool deployable = s.method == "morphoquant" && s.abits < 16 && s.weight.format != core::WeightFormat::None
        && !s.gptq.enabled && !s.quantizeEncoders;
    s.mode = deployable ? m_mode->currentData().toString().toStdString() : std::string("simulated");
    return s;
}

void ThresholdPanel::setPlanStatus(const QString& text, bool needsQuantize)
{
    m_status->setText(text);
    QFont f = m_status->font();
    f.setBold(needsQuantize);
    m_status->setFont(f);
}

QString ThresholdPanel::planStatus() const
{
    return m_status->text();
}

bool ThresholdPanel::sameSettings(const core::DabcSettings& a, const core::DabcSettings& b)
{
    return sameMaskFields(a, b) && a.rho == b.rho;
}

bool ThresholdPanel::sameSettings(const core::QuantSettings& a, const core::QuantSettings& b)
{
    return sameRequantizeFields(a, b) && sameSettings(a.dabc, b.dabc) && sameMdqfo(a.mdqfo, b.mdqfo);
}

ThresholdPanel::Effect ThresholdPanel::effectOf(const core::QuantSettings& a, const core::QuantSettings& b)
{
    Effect e;
    e.masks = !sameMaskFields(a.dabc, b.dabc);
    e.mdqfo = e.masks || !sameMdqfo(a.mdqfo, b.mdqfo);
    e.requantize = !sameRequantizeFields(a, b) || a.dabc.rho != b.dabc.rho;
    return e;
}

void ThresholdPanel::updateEnabled()
{
    const bool mq = m_method->currentData().toString() == QLatin1String("morphoquant");
    const bool dabc = mq && m_dabcOn->isChecked();
    for (QWidget* w : std::initializer_list<QWidget*>{m_k, m_local, m_global, m_form, m_source, m_force, m_rho})
        w->setEnabled(dabc);
    m_dabcOn->setEnabled(mq);
    m_mdqfoOn->setEnabled(mq);
    const bool mdqfo = mq && m_mdqfoOn->isChecked();
    for (QWidget* w : std::initializer_list<QWidget*>{m_solver, m_p, m_lambda})
        w->setEnabled(mdqfo);
    const auto wf = core::WeightFormat(m_wformat->currentData().toInt());
    m_wbits->setEnabled(wf == core::WeightFormat::Int);
    m_group->setEnabled(wf == core::WeightFormat::Int);
    m_aformat->setEnabled(!mq);
    const bool intActs = !mq && core::ActFormat(m_aformat->currentData().toInt()) == core::ActFormat::Int
        && m_abits->currentData().toInt() < 16;
    m_ascheme->setEnabled(intActs);
    m_agroup->setEnabled(intActs && !core::isPerTensor(core::parseActScheme(m_ascheme->currentData().toString().toStdString())));
    const bool gptqable = core::gptqRounds(wf);
    m_gptq->setEnabled(gptqable);
    m_gptqTarget->setEnabled(gptqable && m_gptq->isChecked());
    m_encoders->setEnabled(m_encodersAvailable);
    m_mode->setEnabled(mq && m_abits->currentData().toInt() < 16 && wf != core::WeightFormat::None
                       && !(gptqable && m_gptq->isChecked()) && !(m_encodersAvailable && m_encoders->isChecked()));
    const core::QuantSettings s = quantSettings();
    QStringList passes;
    for (const std::string& p : s.passes())
        passes << QString::fromStdString(p);
    m_recipe->setText(passes.isEmpty() ? tr("full precision") : passes.join(QStringLiteral(" \u2192 ")));
}

void ThresholdPanel::onEdited()
{
    updateEnabled();
    const core::QuantSettings s = quantSettings();
    if (sameSettings(s, m_base)) // editingFinished also fires on focus loss without a change
        return;
    const bool dabcChanged = !sameSettings(s.dabc, m_base.dabc);
    m_base = s;
    if (dabcChanged)
        emit settingsChanged(s.dabc);
    emit quantSettingsChanged(s);
}

} // namespace mq::ui
