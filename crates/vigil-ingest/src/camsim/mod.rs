//! camsim: a real RTSP test camera server.
//!
//! Serves video files and still images as endless live H.264 RTSP streams on
//! `127.0.0.1:<port>`, one mount per source, for tests, demos and `vigil camsim`. Each mount has a
//! producer pipeline that decodes its source at real-time pace (looping files, panning across
//! stills) and a shared RTSP media factory `appsrc ! queue ! x264enc ! rtph264pay` fed by it.
//!
//! Fault injection: [`Camsim::stop_mount`] removes a mount and disconnects its clients (new
//! connections get 404) until [`Camsim::restore_mount`]; a mount may require basic auth.
//! The server's GLib main loop runs on a thread of its own; [`Camsim::stop`] ends it.

mod pan;
mod producer;

pub use pan::{Crop, pan_crop, window_size};

use crate::config::Secret;
use crate::error::IngestError;
use gstreamer as gst;
use gstreamer::glib;
use gstreamer_app as gst_app;
use gstreamer_rtsp_server as rtsp;
use gstreamer_rtsp_server::prelude::*;
use producer::{Outlet, Producer};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// What a mount serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CamsimSource {
    /// A video file in any container/codec GStreamer decodes; looped forever.
    File(PathBuf),
    /// A still image (JPEG/PNG), turned into video by a slow pan.
    Still(PathBuf),
}

/// One served stream.
#[derive(Debug, Clone)]
pub struct MountSpec {
    /// Mount path, starting with `/` (e.g. `/gate`).
    pub path: String,
    /// Content.
    pub source: CamsimSource,
    /// Frames per second of the served stream (also the keyframe interval: one per second).
    pub fps: u32,
    /// Output width; `None` keeps the source width (files) or the pan window width (stills).
    pub width: Option<u32>,
    /// Output height; `None` as for `width`.
    pub height: Option<u32>,
    /// Basic-auth user and password required for this mount; `None` = open.
    pub auth: Option<(String, Secret)>,
}

impl MountSpec {
    /// An open mount at `fps` with the source's own size.
    pub fn new(path: impl Into<String>, source: CamsimSource, fps: u32) -> Self {
        Self {
            path: path.into(),
            source,
            fps,
            width: None,
            height: None,
            auth: None,
        }
    }
}

/// Server settings.
#[derive(Debug, Clone)]
pub struct CamsimConfig {
    /// Listen address. Default: `127.0.0.1`.
    pub address: String,
    /// Listen port; 0 picks a free one (see [`Camsim::port`]). Default: 0.
    pub port: u16,
    /// Streams to serve.
    pub mounts: Vec<MountSpec>,
}

impl Default for CamsimConfig {
    fn default() -> Self {
        Self {
            address: "127.0.0.1".into(),
            port: 0,
            mounts: Vec::new(),
        }
    }
}

/// Role given to clients that did not authenticate.
const ANONYMOUS_ROLE: &str = "anonymous";

/// A running test camera server.
pub struct Camsim {
    port: u16,
    address: String,
    server: rtsp::RTSPServer,
    factories: HashMap<String, rtsp::RTSPMediaFactory>,
    main_loop: glib::MainLoop,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Camsim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Camsim")
            .field("address", &self.address)
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

/// What the server thread hands back once it listens.
struct Started {
    port: u16,
    server: rtsp::RTSPServer,
    factories: HashMap<String, rtsp::RTSPMediaFactory>,
}

impl Camsim {
    /// How long [`Camsim::stop`] waits for the server thread.
    pub const STOP_TIMEOUT: Duration = Duration::from_secs(5);

    /// Starts the server and every mount's producer; returns once the port is bound.
    pub fn start(config: CamsimConfig) -> Result<Self, IngestError> {
        crate::init()?;
        for m in &config.mounts {
            if !m.path.starts_with('/') || m.path.len() < 2 {
                return Err(IngestError::Camsim(format!(
                    "mount path `{}` must start with `/`",
                    m.path
                )));
            }
        }
        let context = glib::MainContext::new();
        let main_loop = glib::MainLoop::new(Some(&context), false);
        let (ready_tx, ready_rx) = crossbeam_channel::bounded::<Result<Started, String>>(1);
        let loop_for_thread = main_loop.clone();
        let address = config.address.clone();
        let thread = std::thread::Builder::new()
            .name("camsim".into())
            .spawn(move || {
                let ctx = context.clone();
                let res = ctx.with_thread_default(|| {
                    // Producers and the server source live exactly as long as the main loop.
                    let (started, _producers, source_id) = match setup(&config, &context) {
                        Ok(v) => v,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    let _ = ready_tx.send(Ok(started));
                    loop_for_thread.run();
                    // The id belongs to our context, not the global default one.
                    if let Some(source) = context.find_source_by_id(&source_id) {
                        source.destroy();
                    }
                });
                if let Err(e) = res {
                    tracing::error!(error = %e, "camsim: cannot acquire main context");
                }
            })
            .map_err(|e| IngestError::Io {
                context: "spawning camsim thread".into(),
                source: e,
            })?;
        let started = ready_rx
            .recv_timeout(Duration::from_secs(30))
            .map_err(|_| IngestError::Camsim("server thread did not start".into()))?
            .map_err(IngestError::Camsim)?;
        tracing::info!(address = %address, port = started.port, "camsim listening");
        Ok(Self {
            port: started.port,
            address,
            server: started.server,
            factories: started.factories,
            main_loop,
            thread: Some(thread),
        })
    }

    /// The bound TCP port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `rtsp://address:port/path` for a mount.
    pub fn url(&self, path: &str) -> String {
        format!("rtsp://{}:{}{}", self.address, self.port, path)
    }

    /// Takes a mount offline: new requests get 404 and connected clients are disconnected.
    pub fn stop_mount(&self, path: &str) -> Result<(), IngestError> {
        self.factory(path)?;
        if let Some(mounts) = self.server.mount_points() {
            mounts.remove_factory(path);
        }
        let mut victims = Vec::new();
        self.server.client_filter(Some(&mut |_server, client| {
            let uses_mount = !client
                .session_filter(Some(&mut |_client, session| {
                    let hits = session.filter(Some(&mut |_s, media| {
                        if media.matches(path).is_some() {
                            rtsp::RTSPFilterResult::Ref
                        } else {
                            rtsp::RTSPFilterResult::Keep
                        }
                    }));
                    if hits.is_empty() {
                        rtsp::RTSPFilterResult::Keep
                    } else {
                        rtsp::RTSPFilterResult::Ref
                    }
                }))
                .is_empty();
            if uses_mount {
                victims.push(client.clone());
            }
            rtsp::RTSPFilterResult::Keep
        }));
        for client in &victims {
            client.close();
        }
        tracing::info!(mount = path, clients = victims.len(), "camsim: mount stopped");
        Ok(())
    }

    /// Brings a stopped mount back.
    pub fn restore_mount(&self, path: &str) -> Result<(), IngestError> {
        let factory = self.factory(path)?;
        let mounts = self
            .server
            .mount_points()
            .ok_or_else(|| IngestError::Camsim("server has no mount points".into()))?;
        mounts.add_factory(path, factory.clone());
        tracing::info!(mount = path, "camsim: mount restored");
        Ok(())
    }

    fn factory(&self, path: &str) -> Result<&rtsp::RTSPMediaFactory, IngestError> {
        self.factories
            .get(path)
            .ok_or_else(|| IngestError::Camsim(format!("no mount `{path}`")))
    }

    /// Stops the server: quits the main loop, stops producers and joins the thread.
    pub fn stop(&mut self) -> Result<(), IngestError> {
        let Some(thread) = self.thread.take() else {
            return Ok(());
        };
        // Disconnect everyone first so that media pipelines shut down with their clients.
        self.server
            .client_filter(Some(&mut |_s, _c| rtsp::RTSPFilterResult::Remove));
        self.main_loop.quit();
        let (tx, rx) = crossbeam_channel::bounded::<()>(1);
        let waiter = std::thread::spawn(move || {
            let _ = thread.join();
            let _ = tx.send(());
        });
        match rx.recv_timeout(Self::STOP_TIMEOUT) {
            Ok(()) => {
                let _ = waiter.join();
                Ok(())
            }
            Err(_) => Err(IngestError::StopTimeout {
                what: "camsim server".into(),
                timeout_ms: Self::STOP_TIMEOUT.as_millis() as u64,
            }),
        }
    }
}

impl Drop for Camsim {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

/// Creates the server, auth, factories and producers on the camsim thread (its context is the
/// thread default here).
fn setup(
    config: &CamsimConfig,
    context: &glib::MainContext,
) -> Result<(Started, Vec<Producer>, glib::SourceId), String> {
    let server = rtsp::RTSPServer::new();
    server.set_address(&config.address);
    server.set_service(&config.port.to_string());
    let mounts = server.mount_points().ok_or("RTSP server without mount points")?;
    let credential_roles: Vec<String> = config
        .mounts
        .iter()
        .filter(|m| m.auth.is_some())
        .map(|m| role_for(&m.path))
        .collect();
    if !credential_roles.is_empty() {
        let auth = rtsp::RTSPAuth::new();
        let mut anonymous = rtsp::RTSPToken::builder()
            .field(rtsp::RTSP_TOKEN_MEDIA_FACTORY_ROLE, ANONYMOUS_ROLE)
            .build();
        auth.set_default_token(Some(&mut anonymous));
        for m in &config.mounts {
            if let Some((user, pass)) = &m.auth {
                let token = rtsp::RTSPToken::builder()
                    .field(rtsp::RTSP_TOKEN_MEDIA_FACTORY_ROLE, role_for(&m.path))
                    .build();
                auth.add_basic(&rtsp::RTSPAuth::make_basic(user, pass.expose()), &token);
            }
        }
        server.set_auth(Some(&auth));
    }
    let mut factories = HashMap::new();
    let mut producers = Vec::new();
    for spec in &config.mounts {
        let outlet = Arc::new(Mutex::new(Outlet::default()));
        let factory = media_factory(spec, outlet.clone());
        if !credential_roles.is_empty() {
            // (role, may construct). Anonymous clients of a protected mount may "see" it but not
            // construct it: that makes the server answer 401 with a challenge (no access at all
            // would be a 404, and rtspsrc would never send its credentials).
            let roles: Vec<(String, bool)> = match spec.auth {
                Some(_) => vec![(role_for(&spec.path), true), (ANONYMOUS_ROLE.to_owned(), false)],
                None => std::iter::once(ANONYMOUS_ROLE.to_owned())
                    .chain(credential_roles.iter().cloned())
                    .map(|r| (r, true))
                    .collect(),
            };
            for (role, construct) in roles {
                let perms = gst::Structure::builder(role.as_str())
                    .field(rtsp::RTSP_PERM_MEDIA_FACTORY_ACCESS, true)
                    .field(rtsp::RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, construct)
                    .build();
                factory.add_role_from_structure(&perms);
            }
        }
        mounts.add_factory(&spec.path, factory.clone());
        factories.insert(spec.path.clone(), factory);
        producers.push(Producer::start(spec, outlet)?);
    }
    let source_id = server
        .attach(Some(context))
        .map_err(|e| format!("cannot listen on {}:{}: {e}", config.address, config.port))?;
    let port = u16::try_from(server.bound_port()).map_err(|_| "server reports no bound port".to_string())?;
    Ok((
        Started {
            port,
            server,
            factories,
        },
        producers,
        source_id,
    ))
}

/// Auth role name of a mount.
fn role_for(path: &str) -> String {
    format!("mount{}", path.replace('/', "-"))
}

/// A shared factory whose media takes frames from the mount's producer.
fn media_factory(spec: &MountSpec, outlet: Arc<Mutex<Outlet>>) -> rtsp::RTSPMediaFactory {
    let fps = spec.fps.max(1);
    let factory = rtsp::RTSPMediaFactory::new();
    factory.set_launch(&format!(
        "( appsrc name=src is-live=true do-timestamp=true format=time \
         max-buffers=3 max-bytes=0 leaky-type=downstream \
         ! queue max-size-buffers=3 max-size-bytes=0 max-size-time=0 leaky=downstream \
         ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max={fps} threads=4 \
         ! rtph264pay name=pay0 pt=96 config-interval=-1 )"
    ));
    // `threads=4` with zerolatency's sliced threads: every frame is coded as 4 slices, as many
    // IP cameras do, whatever this host's core count — the ingest must decode those whole.
    // One encoder per mount however many clients watch.
    factory.set_shared(true);
    let path = spec.path.clone();
    factory.connect_media_configure(move |_factory, media| {
        let appsrc = media
            .element()
            .downcast::<gst::Bin>()
            .ok()
            .and_then(|bin| bin.by_name("src"))
            .and_then(|e| e.downcast::<gst_app::AppSrc>().ok());
        let Some(appsrc) = appsrc else {
            tracing::warn!(mount = %path, "camsim: media without appsrc");
            return;
        };
        if let Ok(mut outlet) = outlet.lock() {
            if let Some(caps) = &outlet.caps {
                appsrc.set_caps(Some(caps));
            }
            outlet.appsrc = Some(appsrc.clone());
        }
        // The producer stops feeding this media when it goes, not when a push fails: a push
        // made between configure and the appsrc starting fails too (flushing), and forgetting
        // the appsrc then left that client without frames until it stalled.
        let weak_outlet = Arc::downgrade(&outlet);
        media.connect_unprepared(move |_media| {
            if let Some(outlet) = weak_outlet.upgrade()
                && let Ok(mut outlet) = outlet.lock()
                && outlet.appsrc.as_ref() == Some(&appsrc)
            {
                outlet.appsrc = None;
            }
        });
    });
    factory
}
