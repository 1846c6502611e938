//! The tab's WebSocket to `/ws` (in the browser only): reconnecting with
//! backoff and jitter, kept alive by pings, and closed after a long silence.
//! Both conversation islands use it; what a frame means is the island's
//! business (a [`Listener`]): the member's island decodes every frame into
//! its timeline, a signed-out reader's only looks at each frame's kind, so
//! the reader's code carries no JSON decoder.

use std::{cell::RefCell, rc::Rc};

use leptos::prelude::*;
use tchatche_core::event::ClientFrame;
use wasm_bindgen::{JsCast, closure::Closure};
use web_sys::{CloseEvent, MessageEvent, WebSocket};

use super::live::Connection;

const PING_EVERY_MS: i32 = 20_000;
/// How often the tab checks its socket (and the listener its clock).
const TICK_MS: i32 = 2_000;
/// Without a word from the server for this long, the socket is dead.
const SILENCE_LIMIT_MS: f64 = 50_000.0;
const MAX_BACKOFF_MS: f64 = 30_000.0;

/// What an island does with its socket.
pub trait Listener {
    /// The frames (encoded) that subscribe it, sent each time the socket
    /// opens: they say where to resume.
    fn subscriptions(&self) -> Vec<String>;
    /// Shows how the connection is doing.
    fn connection(&self, state: Connection);
    /// Handles one frame from the server; `false` closes the socket for
    /// good (the room is no longer visible).
    fn frame(&self, text: &str) -> bool;
    /// Called every [`TICK_MS`] with the time, in milliseconds.
    fn tick(&self, _now: f64) {}
}

struct State {
    socket: Option<WebSocket>,
    attempts: u32,
    last_heard: f64,
    last_ping: f64,
    stopped: bool,
    timers: Vec<i32>,
    _closures: Vec<Box<dyn std::any::Any>>,
}

/// The tab's socket and its reconnect loop.
#[derive(Clone)]
pub struct Handle {
    state: Rc<RefCell<State>>,
    listener: Rc<dyn Listener>,
}

pub fn now() -> f64 {
    js_sys::Date::now()
}

impl Handle {
    pub fn start(listener: Rc<dyn Listener>) -> Self {
        let state = State {
            socket: None,
            attempts: 0,
            last_heard: now(),
            last_ping: now(),
            stopped: false,
            timers: Vec::new(),
            _closures: Vec::new(),
        };
        let handle = Self { state: Rc::new(RefCell::new(state)), listener };
        handle.open();
        handle.start_heartbeat();
        handle
    }

    /// Sends an encoded frame, if the socket is open (what is lost while it
    /// is not, the next subscription's resume point makes up for).
    pub fn send(&self, text: &str) {
        let state = self.state.borrow();
        if let Some(socket) = state.socket.as_ref().filter(|s| s.ready_state() == WebSocket::OPEN) {
            let _ = socket.send_with_str(text);
        }
    }

    pub fn stop(&self) {
        let mut state = self.state.borrow_mut();
        state.stopped = true;
        if let Some(socket) = state.socket.take() {
            let _ = socket.close();
        }
        let window = window();
        for timer in state.timers.drain(..) {
            window.clear_interval_with_handle(timer);
            window.clear_timeout_with_handle(timer);
        }
    }

    fn url() -> String {
        let location = window().location();
        let scheme = if location.protocol().unwrap_or_default() == "https:" { "wss" } else { "ws" };
        format!("{scheme}://{}/ws", location.host().unwrap_or_default())
    }

    fn open(&self) {
        if self.state.borrow().stopped {
            return;
        }
        self.listener.connection(Connection::Connecting);
        let Ok(socket) = WebSocket::new(&Self::url()) else {
            self.retry_later();
            return;
        };
        let on_open = {
            let handle = self.clone();
            Closure::<dyn FnMut()>::new(move || handle.on_open())
        };
        let on_message = {
            let handle = self.clone();
            Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| handle.on_message(event))
        };
        let on_close = {
            let handle = self.clone();
            Closure::<dyn FnMut(CloseEvent)>::new(move |_: CloseEvent| handle.on_close())
        };
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        let mut state = self.state.borrow_mut();
        state.socket = Some(socket);
        state._closures = vec![Box::new(on_open), Box::new(on_message), Box::new(on_close)];
    }

    fn on_open(&self) {
        {
            let mut state = self.state.borrow_mut();
            state.attempts = 0;
            state.last_heard = now();
        }
        self.listener.connection(Connection::Live);
        for frame in self.listener.subscriptions() {
            self.send(&frame);
        }
    }

    fn on_message(&self, event: MessageEvent) {
        self.state.borrow_mut().last_heard = now();
        let Some(text) = event.data().as_string() else { return };
        if !self.listener.frame(&text) {
            self.stop();
        }
    }

    fn on_close(&self) {
        let stopped = {
            let mut state = self.state.borrow_mut();
            state.socket = None;
            state.stopped
        };
        if !stopped {
            self.retry_later();
        }
    }

    /// Exponential backoff (0.5 s doubling, at most 30 s) with jitter, so a
    /// restarted server is not hit by every tab at once.
    fn retry_later(&self) {
        let attempts = {
            let mut state = self.state.borrow_mut();
            state.attempts += 1;
            state.attempts
        };
        let base = (500.0 * 2f64.powi(attempts.min(10) as i32 - 1)).min(MAX_BACKOFF_MS);
        let delay = base * (0.5 + js_sys::Math::random());
        self.listener.connection(Connection::Retrying((delay / 1000.0).ceil() as u32));
        let handle = self.clone();
        let reopen = Closure::once_into_js(move || handle.open());
        if let Ok(timer) = window().set_timeout_with_callback_and_timeout_and_arguments_0(reopen.unchecked_ref(), delay as i32) {
            self.state.borrow_mut().timers.push(timer);
        }
    }

    fn start_heartbeat(&self) {
        let handle = self.clone();
        let tick = Closure::<dyn FnMut()>::new(move || {
            let (silent, ping_due, socket) = {
                let state = handle.state.borrow();
                let now = now();
                (now - state.last_heard > SILENCE_LIMIT_MS, now - state.last_ping >= f64::from(PING_EVERY_MS), state.socket.clone())
            };
            handle.listener.tick(now());
            if let Some(socket) = socket {
                if silent {
                    let _ = socket.close(); // triggers a reconnect
                } else if ping_due {
                    handle.state.borrow_mut().last_ping = now();
                    handle.send(ClientFrame::PING_TEXT);
                }
            }
        });
        if let Ok(timer) = window().set_interval_with_callback_and_timeout_and_arguments_0(tick.as_ref().unchecked_ref(), TICK_MS) {
            self.state.borrow_mut().timers.push(timer);
        }
        // The interval lives as long as the page; stop() clears it.
        tick.forget();
    }
}
