//! `proxmox tui`: browse nodes, guests, storage and tasks of a cluster; start, stop or
//! shut down a guest and watch its task. Works over every backend (it only makes API
//! calls). The state and drawing live in [`App`], tested with ratatui's test backend; the
//! terminal loop is a thin shell around it.

use std::time::{Duration, Instant};

use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind};
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table, TableState, Tabs};
use ratatui::Frame;
use serde_json::{Map, Value};

use crate::api::{ApiPath, Method, Upid};
use crate::client::Client;

/// The tabs.
pub const TABS: [&str; 4] = ["Nodes", "Guests", "Storage", "Tasks"];

/// Columns shown per tab: (title, key in the API answer).
const COLUMNS: [&[(&str, &str)]; 4] = [
    &[
        ("node", "node"),
        ("status", "status"),
        ("cpu", "cpu"),
        ("mem", "mem"),
        ("uptime", "uptime"),
    ],
    &[
        ("id", "id"),
        ("name", "name"),
        ("node", "node"),
        ("status", "status"),
        ("lock", "lock"),
    ],
    &[
        ("storage", "storage"),
        ("node", "node"),
        ("type", "plugintype"),
        ("status", "status"),
        ("content", "content"),
    ],
    &[
        ("upid", "upid"),
        ("type", "type"),
        ("id", "id"),
        ("user", "user"),
        ("status", "status"),
    ],
];

/// The TUI's state.
pub struct App {
    client: Client,
    /// The tab shown.
    pub tab: usize,
    /// Rows per tab.
    pub rows: [Vec<Value>; 4],
    selected: [usize; 4],
    /// The status line.
    pub message: String,
    /// The task being watched.
    pub watching: Option<String>,
    /// Set when the user quits.
    pub quit: bool,
}

fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Number(n) if n.is_f64() => format!("{:.2}", n.as_f64().unwrap_or(0.0)),
        other => other.to_string(),
    }
}

impl App {
    /// A TUI over `client` (nothing is loaded until [`App::refresh`]).
    pub fn new(client: Client) -> App {
        App {
            client,
            tab: 0,
            rows: Default::default(),
            selected: [0; 4],
            message:
                "q quit · Tab/←→ switch · ↑↓ select · s start · x stop · d shutdown · r refresh"
                    .into(),
            watching: None,
            quit: false,
        }
    }

    fn get(&self, path: &str, params: &[(&str, &str)]) -> Result<Vec<Value>, String> {
        let mut p = Map::new();
        for (k, v) in params {
            p.insert((*k).to_string(), Value::String((*v).to_string()));
        }
        match self.client.call(Method::Get, path, p) {
            Ok(Value::Array(a)) => Ok(a),
            Ok(_) => Ok(Vec::new()),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Reloads every tab.
    pub fn refresh(&mut self) {
        let loaded = [
            self.get("/api2/json/nodes", &[]),
            self.get("/api2/json/cluster/resources", &[("type", "vm")]),
            self.get("/api2/json/cluster/resources", &[("type", "storage")]),
            self.get("/api2/json/cluster/tasks", &[]),
        ];
        for (i, r) in loaded.into_iter().enumerate() {
            match r {
                Ok(mut rows) => {
                    let key = if i == 0 { "node" } else { "id" };
                    rows.sort_by_key(|r| text(&r[key]));
                    if i == 3 {
                        rows.reverse();
                    }
                    self.selected[i] = self.selected[i].min(rows.len().saturating_sub(1));
                    self.rows[i] = rows;
                }
                Err(e) => self.message = format!("{}: {e}", TABS[i]),
            }
        }
    }

    /// The selected guest (on the Guests tab).
    pub fn selected_guest(&self) -> Option<&Value> {
        self.rows[1].get(self.selected[1])
    }

    /// Handles a key.
    pub fn on_key(&mut self, code: KeyCode) {
        match code {
            KeyCode::Char('q') | KeyCode::Esc => self.quit = true,
            KeyCode::Tab | KeyCode::Right => self.tab = (self.tab + 1) % TABS.len(),
            KeyCode::BackTab | KeyCode::Left => self.tab = (self.tab + TABS.len() - 1) % TABS.len(),
            KeyCode::Char(c @ '1'..='4') => self.tab = (c as usize) - ('1' as usize),
            KeyCode::Down | KeyCode::Char('j') => {
                let n = self.rows[self.tab].len();
                if n > 0 {
                    self.selected[self.tab] = (self.selected[self.tab] + 1).min(n - 1);
                }
            }
            KeyCode::Up | KeyCode::Char('k') => {
                self.selected[self.tab] = self.selected[self.tab].saturating_sub(1);
            }
            KeyCode::Char('r') => self.refresh(),
            KeyCode::Char('s') => self.act("start"),
            KeyCode::Char('x') => self.act("stop"),
            KeyCode::Char('d') => self.act("shutdown"),
            _ => {}
        }
    }

    fn act(&mut self, action: &str) {
        if self.tab != 1 {
            self.message = "select a guest on the Guests tab first".into();
            return;
        }
        let Some(g) = self.selected_guest() else {
            self.message = "no guest selected".into();
            return;
        };
        let (Some(node), Some(kind), Some(vmid)) = (
            g.get("node").and_then(Value::as_str),
            g.get("type").and_then(Value::as_str),
            g.get("vmid").map(text),
        ) else {
            self.message = "the selected row is not a guest".into();
            return;
        };
        let mut path = ApiPath::root();
        path.push("nodes")
            .push(node)
            .push(kind)
            .push(&vmid)
            .push("status")
            .push(action);
        let path = path.into_string();
        match self.client.call(Method::Post, &path, Map::new()) {
            Ok(Value::String(upid)) => {
                self.message = format!("{action} {kind}/{vmid}: {upid} running");
                self.watching = Some(upid);
            }
            Ok(other) => self.message = format!("{action} {kind}/{vmid}: {other}"),
            Err(e) => self.message = format!("{action} {kind}/{vmid}: {e}"),
        }
    }

    /// Checks the watched task; when it has stopped, reports how and refreshes.
    pub fn poll_task(&mut self) {
        let Some(upid) = self.watching.clone() else {
            return;
        };
        let Ok(parsed) = upid.parse::<Upid>() else {
            self.message = format!("not a task id: {upid}");
            self.watching = None;
            return;
        };
        let path = format!("{}/status", parsed.task_path(&upid));
        match self.client.call(Method::Get, &path, Map::new()) {
            Ok(s) if s.get("status").and_then(Value::as_str) == Some("stopped") => {
                let exit = s.get("exitstatus").map(text).unwrap_or_default();
                self.message = format!("task {upid} finished: {exit}");
                self.watching = None;
                self.refresh();
            }
            Ok(_) => {}
            Err(e) => {
                self.message = format!("task {upid}: {e}");
                self.watching = None;
            }
        }
    }

    /// Draws the screen.
    pub fn render(&self, f: &mut Frame) {
        let [top, body, bottom] = Layout::vertical([
            Constraint::Length(3),
            Constraint::Min(3),
            Constraint::Length(3),
        ])
        .areas(f.area());
        let tabs = Tabs::new(TABS.iter().map(|t| Line::from(*t)))
            .select(self.tab)
            .highlight_style(Style::default().add_modifier(Modifier::BOLD | Modifier::REVERSED))
            .block(Block::default().borders(Borders::ALL).title(" proxmox "));
        f.render_widget(tabs, top);
        let cols = COLUMNS[self.tab];
        let header = Row::new(cols.iter().map(|(t, _)| *t))
            .style(Style::default().add_modifier(Modifier::BOLD));
        let rows = self.rows[self.tab]
            .iter()
            .map(|r| Row::new(cols.iter().map(|(_, k)| text(&r[*k]))));
        let widths: Vec<Constraint> = cols
            .iter()
            .enumerate()
            .map(|(i, _)| {
                if i == 0 {
                    Constraint::Percentage(40)
                } else {
                    Constraint::Fill(1)
                }
            })
            .collect();
        let table = Table::new(rows, widths)
            .header(header)
            .row_highlight_style(Style::default().add_modifier(Modifier::REVERSED))
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(format!(" {} ", TABS[self.tab])),
            );
        let mut state = TableState::default().with_selected(Some(self.selected[self.tab]));
        f.render_stateful_widget(table, body, &mut state);
        f.render_widget(
            Paragraph::new(self.message.as_str()).block(Block::default().borders(Borders::ALL)),
            bottom,
        );
    }
}

/// Runs the TUI on the terminal until the user quits.
pub fn run(client: Client) -> Result<(), String> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() {
        return Err("tui: needs a terminal".into());
    }
    let mut app = App::new(client);
    app.refresh();
    let mut terminal = ratatui::init();
    let mut last = Instant::now();
    let result = loop {
        if let Err(e) = terminal.draw(|f| app.render(f)) {
            break Err(format!("tui: {e}"));
        }
        match event::poll(Duration::from_millis(250)) {
            Ok(true) => {
                if let Ok(Event::Key(k)) = event::read() {
                    if k.kind == KeyEventKind::Press {
                        app.on_key(k.code);
                    }
                }
            }
            Ok(false) => {}
            Err(e) => break Err(format!("tui: {e}")),
        }
        app.poll_task();
        if app.quit {
            break Ok(());
        }
        if last.elapsed() > Duration::from_secs(5) && app.watching.is_none() {
            app.refresh();
            last = Instant::now();
        }
    };
    ratatui::restore();
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;

    fn screen(app: &App) -> String {
        let mut t = Terminal::new(TestBackend::new(110, 20)).unwrap();
        t.draw(|f| app.render(f)).unwrap();
        let buf = t.backend().buffer().clone();
        let mut out = String::new();
        for y in 0..buf.area.height {
            for x in 0..buf.area.width {
                out.push_str(buf[(x, y)].symbol());
            }
            out.push('\n');
        }
        out
    }

    #[test]
    fn browse_start_and_watch_a_task() {
        crate::mock::store::forget_store("9.2", "tui-test");
        let mock = crate::mock::MockPve::shared("9.2", "tui-test", None, false).unwrap();
        let client = Client::over_mock(mock);
        let mut p = Map::new();
        p.insert("vmid".into(), Value::from(100));
        p.insert("name".into(), Value::from("web"));
        client
            .call(Method::Post, "/api2/json/nodes/pve1/qemu", p)
            .unwrap();

        let mut app = App::new(client);
        app.refresh();
        let s = screen(&app);
        assert!(
            s.contains("Nodes") && s.contains("pve1") && s.contains("online"),
            "{s}"
        );
        app.on_key(KeyCode::Char('s'));
        assert!(app.message.contains("Guests tab"), "{}", app.message);
        app.on_key(KeyCode::Tab);
        let s = screen(&app);
        assert!(
            s.contains("qemu/100") && s.contains("web") && s.contains("stopped"),
            "{s}"
        );
        app.on_key(KeyCode::Char('s'));
        assert!(app
            .watching
            .as_deref()
            .is_some_and(|u| u.contains(":qmstart:100:")));
        app.poll_task();
        assert!(app.watching.is_none());
        assert!(app.message.ends_with("finished: OK"), "{}", app.message);
        let s = screen(&app);
        assert!(s.contains("running"), "{s}");
        // Starting it again: the task fails, and the status line says why.
        app.on_key(KeyCode::Char('s'));
        app.poll_task();
        assert!(
            app.message.ends_with("finished: VM 100 already running"),
            "{}",
            app.message
        );
        app.on_key(KeyCode::Char('4'));
        let s = screen(&app);
        assert!(s.contains("qmstart"), "{s}");
        app.on_key(KeyCode::Char('q'));
        assert!(app.quit);
    }
}
