//! `/sharing`: the owner creates read-only links for screens on the wall, and revokes them.

use crate::functions::account::{CreateShareLink, RevokeShareLink, share_links};
use leptos::form::ActionForm;
use leptos::prelude::*;

/// The share links page.
#[component]
pub fn SharingPage() -> impl IntoView {
    let create = ServerAction::<CreateShareLink>::new();
    let revoke = ServerAction::<RevokeShareLink>::new();
    let links = Resource::new(move || (create.version().get(), revoke.version().get()), |_| share_links());
    // The page's origin, known only in the browser, makes the link complete.
    let origin = RwSignal::new(String::new());
    Effect::new(move |_| origin.set(page_origin()));
    view! {
        <section class="panel sharing">
            <h1>"Share a read-only view"</h1>
            <p class="intro">"Whoever opens a share link sees every page and can change nothing. Revoke it to end its sessions."</p>
            <ActionForm action=create attr:class="share-form">
                <label>"Label" <input type="text" name="label" placeholder="Kitchen screen" required maxlength="64" /></label>
                <button type="submit">"Create a link"</button>
            </ActionForm>
            {move || create.value().get().map(|result| match result {
                Ok(path) => {
                    let href = path.clone();
                    view! {
                    <p class="new-link">"Copy it now, it is shown only once: "
                        <a href=href rel="external"><code>{move || format!("{}{path}", origin.get())}</code></a>
                    </p>
                    }.into_any()
                }
                Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
            })}
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match links.await {
                        Ok(links) if links.is_empty() => view! { <p class="empty">"No share links."</p> }.into_any(),
                        Ok(links) => view! {
                            <ul class="share-links">
                                {links.into_iter().map(|link| view! {
                                    <li>
                                        <span>{link.label}</span>
                                        <ActionForm action=revoke>
                                            <input type="hidden" name="share_link_id" value=link.share_link_id />
                                            <button type="submit">"Revoke"</button>
                                        </ActionForm>
                                    </li>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[cfg(feature = "hydrate")]
fn page_origin() -> String {
    web_sys::window().and_then(|w| w.location().origin().ok()).unwrap_or_default()
}

#[cfg(not(feature = "hydrate"))]
fn page_origin() -> String {
    String::new()
}
