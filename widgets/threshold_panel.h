#pragma once
// DABC's threshold controls (DESIGN.md Eq. 6): k, local/global thresholds, score form, pooled or
// any-modality scores and the module kinds masked entirely. GUI thread only.
#include <QWidget>

#include "quant/quant_settings.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLineEdit;

namespace mq::ui {

class ThresholdPanel : public QWidget {
    Q_OBJECT
public:
    explicit ThresholdPanel(QWidget* parent = nullptr);

    // Shows `s` without emitting settingsChanged (session open, undo/redo).
    void setSettings(const core::DabcSettings& s);
    // What the controls show now; fields without a control (enabled, rho) come from setSettings.
    core::DabcSettings settings() const;

    QDoubleSpinBox* kBox() const { return m_k; }
    QCheckBox* localBox() const { return m_local; }
    QCheckBox* globalBox() const { return m_global; }
    QComboBox* formBox() const { return m_form; }
    QComboBox* sourceBox() const { return m_source; }
    QLineEdit* forceEdit() const { return m_force; }

    static bool sameSettings(const core::DabcSettings& a, const core::DabcSettings& b);

signals:
    // A person changed a control; carries the whole new settings.
    void settingsChanged(const mq::core::DabcSettings& settings);

private:
    void onEdited();

    core::DabcSettings m_base; // last shown or emitted
    QDoubleSpinBox* m_k = nullptr;
    QCheckBox* m_local = nullptr;
    QCheckBox* m_global = nullptr;
    QComboBox* m_form = nullptr;
    QComboBox* m_source = nullptr;
    QLineEdit* m_force = nullptr;
};

} // namespace mq::ui
