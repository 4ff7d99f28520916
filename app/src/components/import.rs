//! The Devices page's import: a CSV file (Hearth's export, or `time,value` for one named
//! sensor) sent to `POST /api/owner/import` with a progress bar: the upload's bytes, then the
//! server's progress lines as it checks and stores the rows; at the end what was stored, or
//! every refused row by line.

use leptos::prelude::*;

/// Where an import is (set only in the browser).
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
#[derive(Clone, Debug, PartialEq)]
enum Stage {
    Idle,
    /// Sending the file; the fraction sent.
    Uploading(f64),
    /// The server checking or storing; its phase and fraction.
    Working(String, f64),
    /// Done: what was stored.
    Done(String),
    /// Refused or failed: why, and the refused rows.
    Failed(String, Vec<String>),
}

/// What the import panel holds, owned by the page so that it outlives the panel: the page
/// draws the panel again when it reads its devices after an import.
#[derive(Clone, Copy)]
pub struct ImportForm {
    stage: RwSignal<Stage>,
    device: RwSignal<String>,
    sensor: RwSignal<String>,
    kind: RwSignal<String>,
    imported: RwSignal<u32>,
}

impl ImportForm {
    /// An empty form.
    pub fn new() -> ImportForm {
        ImportForm {
            stage: RwSignal::new(Stage::Idle),
            device: RwSignal::new(String::new()),
            sensor: RwSignal::new(String::new()),
            kind: RwSignal::new(String::new()),
            imported: RwSignal::new(0),
        }
    }

    /// How many imports have finished (tracked), for the page to read its devices again.
    pub fn imported(&self) -> u32 {
        self.imported.get()
    }
}

impl Default for ImportForm {
    fn default() -> Self {
        ImportForm::new()
    }
}

/// The import panel.
#[component]
pub fn ImportPanel(form: ImportForm) -> impl IntoView {
    let ImportForm { stage, device, sensor, kind, imported } = form;
    let file_input = NodeRef::<leptos::html::Input>::new();
    let busy = move || matches!(stage.get(), Stage::Uploading(_) | Stage::Working(..));
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let query = [("device", device.get_untracked()), ("sensor", sensor.get_untracked()), ("kind", kind.get_untracked())];
        send(file_input, &query, stage, imported);
    };
    let progress = move || match stage.get() {
        Stage::Uploading(f) => Some(("Uploading", f)),
        Stage::Working(phase, f) if phase == "checking" => Some(("Checking rows", f)),
        Stage::Working(_, f) => Some(("Storing", f)),
        _ => None,
    };
    view! {
        <section class="panel import-panel">
            <h2>"Import readings"</h2>
            <p class="hint">"A CSV file exported by Hearth (it names its devices and sensors), or a "
                <code>"time,value"</code>" file (Home Assistant, Emoncms) for the one sensor named below. "
                "Readings already stored are skipped; a file with any refused row stores nothing."</p>
            <form class="import-form" on:submit=on_submit>
                <input type="file" accept=".csv,text/csv" node_ref=file_input required aria-label="CSV file" />
                <div class="inline-form">
                    <input type="text" placeholder="device (time,value files)" aria-label="Device" bind:value=device />
                    <input type="text" placeholder="sensor key, e.g. office.temperature" aria-label="Sensor key" bind:value=sensor />
                    <select aria-label="Kind" bind:value=kind>
                        <option value="">"kind (new sensor)"</option>
                        {hearth_core::sensor::Kind::ALL.into_iter().map(|k| view! { <option value=k.as_str()>{k.as_str()}</option> }).collect_view()}
                    </select>
                </div>
                <button type="submit" class="primary" disabled=busy>"Import"</button>
            </form>
            {move || progress().map(|(label, fraction)| view! {
                <div class="import-progress">
                    <progress max="1" value=fraction.to_string()></progress>
                    <span>{label}" "{format!("{:.0}%", fraction * 100.0)}</span>
                </div>
            })}
            {move || match stage.get() {
                Stage::Done(text) => Some(view! { <p class="callout" data-testid="import-done">{text}</p> }.into_any()),
                Stage::Failed(error, rows) => Some(view! {
                    <div class="error" data-testid="import-error">
                        <p>{error}</p>
                        <ul>{rows.into_iter().map(|r| view! { <li>{r}</li> }).collect_view()}</ul>
                    </div>
                }.into_any()),
                _ => None,
            }}
        </section>
    }
}

/// The answer's last complete line, as the stage it ends in (or the progress it reports).
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
fn stage_of(line: &serde_json::Value) -> Option<Stage> {
    if let Some(p) = line.get("progress").filter(|p| !p.is_null()) {
        let total = p["total"].as_f64().unwrap_or(0.0);
        let fraction = if total > 0.0 { p["bytes"].as_f64().unwrap_or(0.0) / total } else { 1.0 };
        return Some(Stage::Working(p["phase"].as_str().unwrap_or("storing").to_owned(), fraction));
    }
    if let Some(done) = line.get("done") {
        let created = done["devices_created"].as_array().map_or(0, Vec::len);
        let mut text = format!(
            "{} readings: {} stored, {} already there.",
            done["rows"].as_u64().unwrap_or(0),
            done["stored"].as_u64().unwrap_or(0),
            done["duplicates"].as_u64().unwrap_or(0)
        );
        if created > 0 {
            text.push_str(&format!(" {created} devices created."));
        }
        return Some(Stage::Done(text));
    }
    let error = line.get("error")?.as_str().unwrap_or("the import failed").to_owned();
    let rows = line["refused"]
        .as_array()
        .map(|rows| rows.iter().map(|r| format!("line {}: {}", r["line"], r["message"].as_str().unwrap_or(""))).collect())
        .unwrap_or_default();
    Some(Stage::Failed(error, rows))
}

#[cfg(feature = "hydrate")]
fn send(input: NodeRef<leptos::html::Input>, query: &[(&str, String)], stage: RwSignal<Stage>, imported: RwSignal<u32>) {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    let Some(file) = input.get_untracked().and_then(|i| i.files()).and_then(|f| f.get(0)) else {
        stage.set(Stage::Failed("Choose a CSV file first.".into(), Vec::new()));
        return;
    };
    let params: Vec<String> = query
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| format!("{k}={}", String::from(js_sys::encode_uri_component(v.trim()))))
        .collect();
    let url = format!("/api/owner/import?{}", params.join("&"));
    let Ok(xhr) = web_sys::XmlHttpRequest::new() else { return };
    if xhr.open("POST", &url).is_err() {
        return;
    }
    let _ = xhr.set_request_header("Accept", "application/x-ndjson");
    let _ = xhr.set_request_header("Content-Type", "text/csv");
    stage.set(Stage::Uploading(0.0));
    let on_upload = Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |e: web_sys::ProgressEvent| {
        if e.length_computable() && e.total() > 0.0 {
            stage.set(Stage::Uploading(e.loaded() / e.total()));
        }
    });
    if let Ok(upload) = xhr.upload() {
        upload.set_onprogress(Some(on_upload.as_ref().unchecked_ref()));
    }
    on_upload.forget();
    let last_line = |xhr: &web_sys::XmlHttpRequest| -> Option<serde_json::Value> {
        let text = xhr.response_text().ok().flatten()?;
        let complete = text.rsplit_once('\n').map(|(done, _)| done)?;
        serde_json::from_str(complete.rsplit('\n').next()?).ok()
    };
    let reading = xhr.clone();
    let on_progress = Closure::<dyn FnMut()>::new(move || {
        if let Some(s) = last_line(&reading).as_ref().and_then(stage_of).filter(|s| matches!(s, Stage::Working(..))) {
            stage.set(s);
        }
    });
    xhr.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
    on_progress.forget();
    let finished = xhr.clone();
    let on_end = Closure::<dyn FnMut()>::new(move || {
        let status = finished.status().unwrap_or(0);
        let body = finished.response_text().ok().flatten().unwrap_or_default();
        let last = body.lines().filter(|l| !l.trim().is_empty()).next_back().and_then(|l| serde_json::from_str::<serde_json::Value>(l).ok());
        let end = match last.as_ref().and_then(stage_of) {
            Some(Stage::Working(..)) | None => Stage::Failed(format!("The import ended without an answer (status {status})."), Vec::new()),
            Some(end) => end,
        };
        if matches!(end, Stage::Done(_)) {
            imported.update(|n| *n += 1);
        }
        stage.set(end);
    });
    xhr.set_onloadend(Some(on_end.as_ref().unchecked_ref()));
    on_end.forget();
    if xhr.send_with_opt_blob(Some(&file)).is_err() {
        stage.set(Stage::Failed("The file could not be sent.".into(), Vec::new()));
    }
}

#[cfg(not(feature = "hydrate"))]
fn send(_: NodeRef<leptos::html::Input>, _: &[(&str, String)], _: RwSignal<Stage>, _: RwSignal<u32>) {}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_server_lines_read_as_stages() {
        let progress = json!({"progress": {"phase": "checking", "bytes": 25, "total": 100}});
        assert_eq!(stage_of(&progress), Some(Stage::Working("checking".into(), 0.25)));
        let done = json!({"done": {"rows": 3, "stored": 2, "duplicates": 1, "devices_created": ["hall"]}});
        assert_eq!(stage_of(&done), Some(Stage::Done("3 readings: 2 stored, 1 already there. 1 devices created.".into())));
        let refused = json!({"error": "refused rows: 1; nothing was stored", "refused": [{"line": 3, "field": "time", "message": "bad time"}], "count": 1});
        assert_eq!(stage_of(&refused), Some(Stage::Failed("refused rows: 1; nothing was stored".into(), vec!["line 3: bad time".into()])));
        assert_eq!(stage_of(&json!({"progress": null})), None);
    }
}
