#pragma once
// The tuning panel: DABC's threshold controls (DESIGN.md Eq. 6: k, local/global thresholds,
// score form, pooled or any-modality scores, kinds masked entirely, rho, on/off), MDQFO's
// (on/off, solver, p, lambda_cos) and the bit widths and formats. Every edit emits the whole
// QuantSettings; DABC edits also emit settingsChanged(DabcSettings). A status line says whether
// the session's plan was built with what the controls show, with a Quantize button that applies
// them to every layer. GUI thread only.
#include <QWidget>

#include "quant/quant_settings.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;

namespace mq::ui {

class ThresholdPanel : public QWidget {
    Q_OBJECT
public:
    explicit ThresholdPanel(QWidget* parent = nullptr);

    // Shows settings without emitting (session open, undo/redo). The DabcSettings form keeps
    // the other fields as they were.
    void setSettings(const core::DabcSettings& s);
    void setQuantSettings(const core::QuantSettings& s);
    // What the controls show now.
    core::DabcSettings settings() const { return quantSettings().dabc; }
    core::QuantSettings quantSettings() const;

    // The status line under the controls (plan up to date, preview, out of date).
    void setPlanStatus(const QString& text, bool needsQuantize);
    QString planStatus() const;

    QDoubleSpinBox* kBox() const { return m_k; }
    QCheckBox* localBox() const { return m_local; }
    QCheckBox* globalBox() const { return m_global; }
    QComboBox* formBox() const { return m_form; }
    QComboBox* sourceBox() const { return m_source; }
    QLineEdit* forceEdit() const { return m_force; }
    QCheckBox* dabcBox() const { return m_dabcOn; }
    QDoubleSpinBox* rhoBox() const { return m_rho; }
    QCheckBox* mdqfoBox() const { return m_mdqfoOn; }
    QComboBox* solverBox() const { return m_solver; }
    QDoubleSpinBox* pBox() const { return m_p; }
    QDoubleSpinBox* lambdaBox() const { return m_lambda; }
    QComboBox* methodBox() const { return m_method; }
    QComboBox* weightFormatBox() const { return m_wformat; }
    QSpinBox* weightBitsBox() const { return m_wbits; }
    QSpinBox* groupSizeBox() const { return m_group; }
    QComboBox* actBitsBox() const { return m_abits; }
    QComboBox* actFormatBox() const { return m_aformat; }
    QComboBox* actSchemeBox() const { return m_ascheme; }
    QSpinBox* actGroupBox() const { return m_agroup; }
    QCheckBox* gptqBox() const { return m_gptq; }
    QCheckBox* gptqTargetBox() const { return m_gptqTarget; }
    QComboBox* modeBox() const { return m_mode; }
    QCheckBox* encodersBox() const { return m_encoders; }
    // Whether the session's calibration ran the Qwen2.5-Omni encoders (a manifest with media):
    // only then can the plan quantize them.
    void setEncodersAvailable(bool available);
    QLabel* recipeLabel() const { return m_recipe; }
    QPushButton* quantizeButton() const { return m_quantize; }

    static bool sameSettings(const core::DabcSettings& a, const core::DabcSettings& b);
    static bool sameSettings(const core::QuantSettings& a, const core::QuantSettings& b);
    // What an edit from a to b affects: the DABC masks, MDQFO's clipping bounds (which a mask
    // change affects too), or only a full quantization (bits, formats, method, rho).
    struct Effect {
        bool masks = false;
        bool mdqfo = false;
        bool requantize = false;
    };
    static Effect effectOf(const core::QuantSettings& a, const core::QuantSettings& b);

signals:
    // A person changed a DABC control; carries the whole new DABC settings.
    void settingsChanged(const mq::core::DabcSettings& settings);
    // A person changed any control; carries everything the controls show.
    void quantSettingsChanged(const mq::core::QuantSettings& settings);
    // The Quantize button.
    void quantizeRequested();

private:
    void onEdited();
    void updateEnabled();

    core::QuantSettings m_base; // last shown or emitted
    QCheckBox* m_dabcOn = nullptr;
    QDoubleSpinBox* m_k = nullptr;
    QCheckBox* m_local = nullptr;
    QCheckBox* m_global = nullptr;
    QComboBox* m_form = nullptr;
    QComboBox* m_source = nullptr;
    QLineEdit* m_force = nullptr;
    QDoubleSpinBox* m_rho = nullptr;
    QCheckBox* m_mdqfoOn = nullptr;
    QComboBox* m_solver = nullptr;
    QDoubleSpinBox* m_p = nullptr;
    QDoubleSpinBox* m_lambda = nullptr;
    QComboBox* m_method = nullptr;
    QComboBox* m_wformat = nullptr;
    QSpinBox* m_wbits = nullptr;
    QSpinBox* m_group = nullptr;
    QComboBox* m_abits = nullptr;
    QComboBox* m_aformat = nullptr;
    QComboBox* m_ascheme = nullptr; // RTN integer activations: per token, per tensor static / dynamic
    QSpinBox* m_agroup = nullptr;   // RTN per-token integer activations: channels per scale (0: the token)
    QCheckBox* m_gptq = nullptr;
    QCheckBox* m_gptqTarget = nullptr;
    QCheckBox* m_encoders = nullptr; // --quantize-encoders
    bool m_encodersAvailable = false;
    QComboBox* m_mode = nullptr; // simulated / deployable (MorphoQuant with quantized activations)
    QLabel* m_recipe = nullptr; // the settings' ordered passes (QuantSettings::passes)
    QLabel* m_status = nullptr;
    QPushButton* m_quantize = nullptr;
};

} // namespace mq::ui
