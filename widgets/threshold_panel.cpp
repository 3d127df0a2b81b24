#include "threshold_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QRegularExpression>
#include <QSignalBlocker>

namespace mq::ui {

namespace {
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
} // namespace

ThresholdPanel::ThresholdPanel(QWidget* parent) : QWidget(parent)
{
    m_k = new QDoubleSpinBox(this);
    m_k->setRange(0.0, 10.0);
    m_k->setSingleStep(0.1);
    m_k->setDecimals(2);
    m_k->setKeyboardTracking(false); // one recompute per finished edit, not per keystroke
    m_k->setToolTip(tr("tau = mu + k sigma of the dispersion scores D_c"));
    m_local = new QCheckBox(tr("Local (this group's channels)"), this);
    m_global = new QCheckBox(tr("Global (all groups' channels)"), this);
    m_form = new QComboBox(this);
    m_form->addItem(tr("Code: |max-min| / log(1 + mean|x|)"), int(core::DispersionForm::Code));
    m_form->addItem(tr("Paper: |max-min| / log(||x||_1)"), int(core::DispersionForm::Paper));
    m_source = new QComboBox(this);
    m_source->addItem(tr("Pooled over modalities"), false);
    m_source->addItem(tr("Outlier in any modality"), true);
    m_force = new QLineEdit(this);
    m_force->setPlaceholderText(tr("none (pure Eq. 6)"));
    m_force->setToolTip(tr("Module kinds whose input is masked entirely, comma separated (e.g. down_proj)"));

    auto* form = new QFormLayout(this);
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    form->addRow(tr("k:"), m_k);
    form->addRow(tr("Thresholds:"), m_local);
    form->addRow(QString(), m_global);
    form->addRow(tr("Score:"), m_form);
    form->addRow(tr("Statistics:"), m_source);
    form->addRow(tr("Force kinds:"), m_force);

    setSettings(core::DabcSettings{});
    connect(m_k, &QDoubleSpinBox::valueChanged, this, &ThresholdPanel::onEdited);
    connect(m_local, &QCheckBox::toggled, this, &ThresholdPanel::onEdited);
    connect(m_global, &QCheckBox::toggled, this, &ThresholdPanel::onEdited);
    connect(m_form, &QComboBox::currentIndexChanged, this, &ThresholdPanel::onEdited);
    connect(m_source, &QComboBox::currentIndexChanged, this, &ThresholdPanel::onEdited);
    connect(m_force, &QLineEdit::editingFinished, this, &ThresholdPanel::onEdited);
}

void ThresholdPanel::setSettings(const core::DabcSettings& s)
{
    const QSignalBlocker b1(m_k), b2(m_local), b3(m_global), b4(m_form), b5(m_source), b6(m_force);
    m_base = s;
    m_k->setValue(s.k);
    m_local->setChecked(s.useLocal);
    m_global->setChecked(s.useGlobal);
    m_form->setCurrentIndex(m_form->findData(int(s.form)));
    m_source->setCurrentIndex(s.anyModality ? 1 : 0);
    m_force->setText(joinKinds(s.forceKinds));
}

core::DabcSettings ThresholdPanel::settings() const
{
    core::DabcSettings s = m_base;
    s.k = m_k->value();
    s.useLocal = m_local->isChecked();
    s.useGlobal = m_global->isChecked();
    s.form = core::DispersionForm(m_form->currentData().toInt());
    s.anyModality = m_source->currentData().toBool();
    s.forceKinds = splitKinds(m_force->text());
    return s;
}

bool ThresholdPanel::sameSettings(const core::DabcSettings& a, const core::DabcSettings& b)
{
    return a.enabled == b.enabled && a.k == b.k && a.useLocal == b.useLocal && a.useGlobal == b.useGlobal
        && a.form == b.form && a.anyModality == b.anyModality && a.rho == b.rho && a.forceKinds == b.forceKinds;
}

void ThresholdPanel::onEdited()
{
    const core::DabcSettings s = settings();
    if (sameSettings(s, m_base)) // editingFinished also fires on focus loss without a change
        return;
    m_base = s;
    emit settingsChanged(s);
}

} // namespace mq::ui
