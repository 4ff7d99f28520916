//! The account menu of the top bar: who is logged in, the share page, logging out. A
//! read-only (shared screen) session sees its label and "Read-only" instead of "Share".

use crate::functions::account::current_viewer;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_location;

/// The menu; empty without a session.
#[component]
pub fn AccountMenu() -> impl IntoView {
    let path = use_location().pathname;
    let viewer = Resource::new(move || path.get(), |_| current_viewer());
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                viewer.await.ok().flatten().map(|viewer| view! {
                    <nav class="account" data-read-only=viewer.read_only.to_string()>
                        <span class="account-name">{viewer.name}</span>
                        {if viewer.read_only {
                            view! { <span class="badge">"Read-only"</span> }.into_any()
                        } else {
                            view! { <A href="/sharing">"Share"</A> }.into_any()
                        }}
                        <form method="post" action=crate::routes::login::logout_url()>
                            <button type="submit" class="link">"Log out"</button>
                        </form>
                    </nav>
                })
            })}
        </Transition>
    }
}
