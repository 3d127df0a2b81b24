<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="ja_JP">
<context>
    <name>main</name>
    <message>
        <location filename="../app/gui/main.cpp" line="41"/>
        <source>MorphoQuant Workbench</source>
        <translation>MorphoQuant ワークベンチ</translation>
    </message>
    <message>
        <location filename="../app/gui/main.cpp" line="45"/>
        <source>Save a 1400x900 picture of the window to &lt;png&gt; and exit.</source>
        <translation>1400x900 のウィンドウ画像を &lt;png&gt; に保存して終了します。</translation>
    </message>
    <message>
        <location filename="../app/gui/main.cpp" line="48"/>
        <source>Session file (.mqs) to open.</source>
        <translation>開くセッションファイル（.mqs）。</translation>
    </message>
</context>
<context>
    <name>mq::ui::DispersionHeatmapView</name>
    <message>
        <location filename="../widgets/dispersion_heatmap_view.cpp" line="22"/>
        <source>Dispersion score D_c:</source>
        <translation>分散スコア D_c：</translation>
    </message>
    <message>
        <location filename="../widgets/dispersion_heatmap_view.cpp" line="24"/>
        <source>code: |max−min| / log(1 + mean|x| + 1e-5)</source>
        <translation>コード：|max−min| / log(1 + mean|x| + 1e-5)</translation>
    </message>
    <message>
        <location filename="../widgets/dispersion_heatmap_view.cpp" line="25"/>
        <source>paper: |max−min| / log(‖X_c‖₁ + eps)</source>
        <translation>論文：|max−min| / log(‖X_c‖₁ + eps)</translation>
    </message>
    <message>
        <location filename="../widgets/dispersion_heatmap_view.cpp" line="31"/>
        <source>input channel</source>
        <translation>入力チャネル</translation>
    </message>
    <message>
        <location filename="../widgets/dispersion_heatmap_view.cpp" line="32"/>
        <source>input group</source>
        <translation>入力グループ</translation>
    </message>
    <message>
        <location filename="../widgets/dispersion_heatmap_view.cpp" line="41"/>
        <source>D_c (pooled)</source>
        <translation>D_c（統合）</translation>
    </message>
    <message>
        <location filename="../widgets/dispersion_heatmap_view.cpp" line="173"/>
        <source>group %1
channel %2
D_c = %3</source>
        <translation>グループ %1
チャネル %2
D_c = %3</translation>
    </message>
</context>
<context>
    <name>mq::ui::LossCurveView</name>
    <message>
        <location filename="../widgets/loss_curve_view.cpp" line="14"/>
        <source>step</source>
        <translation>ステップ</translation>
    </message>
    <message>
        <location filename="../widgets/loss_curve_view.cpp" line="15"/>
        <source>loss</source>
        <translation>損失</translation>
    </message>
    <message>
        <location filename="../widgets/loss_curve_view.cpp" line="25"/>
        <source>L_p</source>
        <translation>L_p</translation>
    </message>
    <message>
        <location filename="../widgets/loss_curve_view.cpp" line="26"/>
        <source>L_cos</source>
        <translation>L_cos</translation>
    </message>
    <message>
        <location filename="../widgets/loss_curve_view.cpp" line="27"/>
        <source>total</source>
        <translation>合計</translation>
    </message>
</context>
<context>
    <name>mq::ui::MainWindow</name>
    <message>
        <location filename="../widgets/main_window.cpp" line="84"/>
        <location filename="../widgets/main_window.cpp" line="259"/>
        <source>MorphoQuant Workbench</source>
        <translation>MorphoQuant ワークベンチ</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="184"/>
        <source>&amp;File</source>
        <translation>ファイル(&amp;F)</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="185"/>
        <source>&amp;Open Session...</source>
        <translation>セッションを開く(&amp;O)...</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="209"/>
        <source>&amp;Quit</source>
        <translation>終了(&amp;Q)</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="221"/>
        <source>&amp;Help</source>
        <translation>ヘルプ(&amp;H)</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="222"/>
        <source>&amp;About MorphoQuant Workbench</source>
        <translation>MorphoQuant ワークベンチについて(&amp;A)</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="102"/>
        <location filename="../widgets/main_window.cpp" line="410"/>
        <source>Open a session (.mqs) made by morphoquant-cli quantize --session.</source>
        <translation>morphoquant-cli quantize --session で作成したセッション（.mqs）を開いてください。</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="69"/>
        <source>Unmask channel %1 of %2</source>
        <translation>%2 のチャネル %1 のマスクを解除</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="70"/>
        <source>Mask channel %1 of %2</source>
        <translation>%2 のチャネル %1 をマスク</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="426"/>
        <source>
Plan: %1, %2 channels compensated by DABC</source>
        <translation>
プラン：%1、DABC で補償したチャネル %2 個</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="430"/>
        <source>
%1: perplexity %2</source>
        <translation>
%1：パープレキシティ %2</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="233"/>
        <source>Opened %1</source>
        <translation>%1 を開きました</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="51"/>
        <source>k %1 → %2</source>
        <translation>k %1 → %2</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="52"/>
        <source>DABC threshold settings</source>
        <translation>DABC しきい値設定</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="93"/>
        <source>Cannot compute the DABC mask: %1</source>
        <translation>DABC マスクを計算できません: %1</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="138"/>
        <source>Channel %1 of %2</source>
        <translation>%2 のチャネル %1</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="148"/>
        <source>Modules</source>
        <translation>モジュール</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="149"/>
        <source>Summary</source>
        <translation>概要</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="150"/>
        <source>Dispersion Heatmap</source>
        <translation>分散ヒートマップ</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="151"/>
        <source>Outliers</source>
        <translation>外れ値</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="152"/>
        <source>DABC Mask</source>
        <translation>DABC マスク</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="153"/>
        <source>MDQFO Loss</source>
        <translation>MDQFO 損失</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="154"/>
        <source>DABC Threshold</source>
        <translation>DABC しきい値</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="173"/>
        <source>&amp;View</source>
        <translation>表示(&amp;V)</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="187"/>
        <source>Open &amp;Recent</source>
        <translation>最近使ったファイル(&amp;R)</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="188"/>
        <source>Re&amp;load</source>
        <translation>再読み込み(&amp;L)</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="191"/>
        <source>&amp;Export Plot</source>
        <translation>プロットをエクスポート(&amp;E)</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="193"/>
        <source>Dispersion Heatmap...</source>
        <translation>分散ヒートマップ...</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="194"/>
        <source>Outliers...</source>
        <translation>外れ値...</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="195"/>
        <source>DABC Mask...</source>
        <translation>DABC マスク...</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="196"/>
        <source>MDQFO Loss...</source>
        <translation>MDQFO 損失...</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="207"/>
        <source>PNG and PDF only (this build has no SVG support)</source>
        <translation>PNG と PDF のみ（このビルドは SVG に非対応）</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="212"/>
        <source>&amp;Edit</source>
        <translation>編集(&amp;E)</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="213"/>
        <source>&amp;Undo</source>
        <translation>元に戻す(&amp;U)</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="215"/>
        <source>&amp;Redo</source>
        <translation>やり直し(&amp;R)</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="237"/>
        <source>Cannot open session</source>
        <translation>セッションを開けません</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="238"/>
        <source>Could not open %1</source>
        <translation>%1 を開けませんでした</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="260"/>
        <source>%1 — MorphoQuant Workbench</source>
        <translation>%1 — MorphoQuant ワークベンチ</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="328"/>
        <source>Recomputing the DABC mask...</source>
        <translation>DABC マスクを再計算しています...</translation>
    </message>
    <message numerus="yes">
        <location filename="../widgets/main_window.cpp" line="397"/>
        <source>%n channel(s) compensated</source>
        <translation>
            <numerusform>%n 個のチャネルを補償</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="411"/>
        <source>No session</source>
        <translation>セッションなし</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="420"/>
        <source>Model %1 (%2)
%3 Linear modules in %4 input groups
%5 calibration tokens</source>
        <translation>モデル %1（%2）
%4 個の入力グループに %3 個の Linear モジュール
キャリブレーショントークン %5 個</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="432"/>
        <source>

Current input group: %1</source>
        <translation>

現在の入力グループ：%1</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="434"/>
        <source>Model: %1 (%2)</source>
        <translation>モデル：%1（%2）</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="437"/>
        <source>Plan: %1, %2 masked channels</source>
        <translation>プラン：%1、マスク済みチャネル %2 個</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="440"/>
        <source>No plan</source>
        <translation>プランなし</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="445"/>
        <source>Open Session</source>
        <translation>セッションを開く</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="446"/>
        <source>MorphoQuant sessions (*.mqs);;All files (*)</source>
        <translation>MorphoQuant セッション (*.mqs);;すべてのファイル (*)</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="483"/>
        <source>Clear List</source>
        <translation>リストを消去</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="523"/>
        <source>About MorphoQuant Workbench</source>
        <translation>MorphoQuant ワークベンチについて</translation>
    </message>
    <message>
        <location filename="../widgets/main_window.cpp" line="524"/>
        <source>MorphoQuant Workbench %1
Modality-aware 4-bit post-training quantization (DABC + MDQFO).</source>
        <translation>MorphoQuant ワークベンチ %1
モダリティを考慮した 4 ビット学習後量子化（DABC + MDQFO）。</translation>
    </message>
</context>
<context>
    <name>mq::ui::MaskView</name>
    <message>
        <location filename="../widgets/mask_view.cpp" line="17"/>
        <source>input channel</source>
        <translation>入力チャネル</translation>
    </message>
    <message>
        <location filename="../widgets/mask_view.cpp" line="18"/>
        <source>D_c</source>
        <translation>D_c</translation>
    </message>
    <message>
        <location filename="../widgets/mask_view.cpp" line="23"/>
        <source>kept (4-bit)</source>
        <translation>維持（4 ビット）</translation>
    </message>
    <message>
        <location filename="../widgets/mask_view.cpp" line="27"/>
        <source>masked (DABC)</source>
        <translation>マスク（DABC）</translation>
    </message>
    <message>
        <location filename="../widgets/mask_view.cpp" line="31"/>
        <source>edited by hand</source>
        <translation>手動で編集</translation>
    </message>
    <message>
        <location filename="../widgets/mask_view.cpp" line="51"/>
        <source>Click a channel to mask or unmask it by hand (Edit &gt; Undo reverts)</source>
        <translation>チャネルをクリックして手動でマスク／解除します（編集 &gt; 元に戻す で取り消し）</translation>
    </message>
    <message>
        <location filename="../widgets/mask_view.cpp" line="137"/>
        <source>tau_local = %1</source>
        <translation>tau_local = %1</translation>
    </message>
    <message>
        <location filename="../widgets/mask_view.cpp" line="138"/>
        <source>tau_global = %1</source>
        <translation>tau_global = %1</translation>
    </message>
</context>
<context>
    <name>mq::ui::OutlierView</name>
    <message>
        <location filename="../widgets/outlier_view.cpp" line="28"/>
        <source>per-channel max|x|</source>
        <translation>チャネルごとの max|x|</translation>
    </message>
    <message>
        <location filename="../widgets/outlier_view.cpp" line="29"/>
        <source>channels</source>
        <translation>チャネル数</translation>
    </message>
    <message>
        <location filename="../widgets/outlier_view.cpp" line="135"/>
        <source>%1 (%2 tokens)</source>
        <translation>%1（%2 トークン）</translation>
    </message>
    <message>
        <location filename="../widgets/outlier_view.cpp" line="146"/>
        <source>alpha0[%1]</source>
        <translation>alpha0[%1]</translation>
    </message>
    <message>
        <location filename="../widgets/outlier_view.cpp" line="148"/>
        <source>alpha[%1]</source>
        <translation>alpha[%1]</translation>
    </message>
    <message>
        <location filename="../widgets/outlier_view.cpp" line="153"/>
        <source>min %1</source>
        <translation>最小 %1</translation>
    </message>
    <message>
        <location filename="../widgets/outlier_view.cpp" line="154"/>
        <source>median %1</source>
        <translation>中央値 %1</translation>
    </message>
    <message>
        <location filename="../widgets/outlier_view.cpp" line="155"/>
        <source>max %1</source>
        <translation>最大 %1</translation>
    </message>
</context>
<context>
    <name>mq::ui::PlotExport</name>
    <message>
        <location filename="../widgets/plot_export.cpp" line="25"/>
        <source>Export Plot</source>
        <translation>プロットをエクスポート</translation>
    </message>
    <message>
        <location filename="../widgets/plot_export.cpp" line="26"/>
        <source>PNG image (*.png);;PDF document (*.pdf)</source>
        <translation>PNG 画像 (*.png);;PDF 文書 (*.pdf)</translation>
    </message>
    <message>
        <location filename="../widgets/plot_export.cpp" line="32"/>
        <source>Export failed</source>
        <translation>エクスポートに失敗しました</translation>
    </message>
    <message>
        <location filename="../widgets/plot_export.cpp" line="33"/>
        <source>Could not write %1 (PNG and PDF are supported).</source>
        <translation>%1 を書き込めませんでした（PNG と PDF に対応）。</translation>
    </message>
    <message>
        <location filename="../widgets/plot_export.cpp" line="41"/>
        <source>Export Plot...</source>
        <translation>プロットをエクスポート...</translation>
    </message>
    <message>
        <location filename="../widgets/plot_export.cpp" line="42"/>
        <source>Reset View</source>
        <translation>表示をリセット</translation>
    </message>
</context>
<context>
    <name>mq::ui::SessionModel</name>
    <message>
        <location filename="../widgets/session_model.cpp" line="154"/>
        <source>%1
input group %2</source>
        <translation>%1
入力グループ %2</translation>
    </message>
    <message>
        <location filename="../widgets/session_model.cpp" line="202"/>
        <source>Other</source>
        <translation>その他</translation>
    </message>
    <message>
        <location filename="../widgets/session_model.cpp" line="202"/>
        <source>Layer %1</source>
        <translation>レイヤー %1</translation>
    </message>
    <message numerus="yes">
        <location filename="../widgets/session_model.cpp" line="203"/>
        <source>%n module(s)</source>
        <translation>
            <numerusform>%n 個のモジュール</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../widgets/session_model.cpp" line="216"/>
        <source>Module</source>
        <translation>モジュール</translation>
    </message>
    <message>
        <location filename="../widgets/session_model.cpp" line="217"/>
        <source>Kind</source>
        <translation>種類</translation>
    </message>
    <message>
        <location filename="../widgets/session_model.cpp" line="218"/>
        <source>In → Out</source>
        <translation>入力 → 出力</translation>
    </message>
    <message>
        <location filename="../widgets/session_model.cpp" line="219"/>
        <source>Input group</source>
        <translation>入力グループ</translation>
    </message>
    <message>
        <location filename="../widgets/session_model.cpp" line="220"/>
        <source>Max D_c</source>
        <translation>最大 D_c</translation>
    </message>
    <message>
        <location filename="../widgets/session_model.cpp" line="221"/>
        <source>Masked</source>
        <translation>マスク数</translation>
    </message>
    <message>
        <location filename="../widgets/session_model.cpp" line="222"/>
        <source>Final loss</source>
        <translation>最終損失</translation>
    </message>
</context>
<context>
    <name>mq::ui::ThresholdPanel</name>
    <message>
        <location filename="../widgets/threshold_panel.cpp" line="39"/>
        <source>tau = mu + k sigma of the dispersion scores D_c</source>
        <translation>分散スコア D_c の tau = mu + k sigma</translation>
    </message>
    <message>
        <location filename="../widgets/threshold_panel.cpp" line="40"/>
        <source>Local (this group&apos;s channels)</source>
        <translation>ローカル（このグループのチャネル）</translation>
    </message>
    <message>
        <location filename="../widgets/threshold_panel.cpp" line="41"/>
        <source>Global (all groups&apos; channels)</source>
        <translation>グローバル（全グループのチャネル）</translation>
    </message>
    <message>
        <location filename="../widgets/threshold_panel.cpp" line="43"/>
        <source>Code: |max-min| / log(1 + mean|x|)</source>
        <translation>コード: |max-min| / log(1 + mean|x|)</translation>
    </message>
    <message>
        <location filename="../widgets/threshold_panel.cpp" line="44"/>
        <source>Paper: |max-min| / log(||x||_1)</source>
        <translation>論文: |max-min| / log(||x||_1)</translation>
    </message>
    <message>
        <location filename="../widgets/threshold_panel.cpp" line="46"/>
        <source>Pooled over modalities</source>
        <translation>全モダリティを統合</translation>
    </message>
    <message>
        <location filename="../widgets/threshold_panel.cpp" line="47"/>
        <source>Outlier in any modality</source>
        <translation>いずれかのモダリティで外れ値</translation>
    </message>
    <message>
        <location filename="../widgets/threshold_panel.cpp" line="49"/>
        <source>none (pure Eq. 6)</source>
        <translation>なし（式 6 のみ）</translation>
    </message>
    <message>
        <location filename="../widgets/threshold_panel.cpp" line="50"/>
        <source>Module kinds whose input is masked entirely, comma separated (e.g. down_proj)</source>
        <translation>入力全体をマスクするモジュール種別（カンマ区切り、例: down_proj）</translation>
    </message>
    <message>
        <location filename="../widgets/threshold_panel.cpp" line="54"/>
        <source>k:</source>
        <translation>k:</translation>
    </message>
    <message>
        <location filename="../widgets/threshold_panel.cpp" line="55"/>
        <source>Thresholds:</source>
        <translation>しきい値:</translation>
    </message>
    <message>
        <location filename="../widgets/threshold_panel.cpp" line="57"/>
        <source>Score:</source>
        <translation>スコア:</translation>
    </message>
    <message>
        <location filename="../widgets/threshold_panel.cpp" line="58"/>
        <source>Statistics:</source>
        <translation>統計:</translation>
    </message>
    <message>
        <location filename="../widgets/threshold_panel.cpp" line="59"/>
        <source>Force kinds:</source>
        <translation>強制する種別:</translation>
    </message>
</context>
</TS>
