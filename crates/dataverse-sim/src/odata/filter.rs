//! `$filter`: a recursive-descent parser that type-checks against the table schema, and an
//! evaluator with SQL-like three-valued logic (a comparison with a null column is "unknown",
//! which excludes the row, except `eq null` / `ne null`).
//!
//! Grammar (precedence low → high):
//! ```text
//! or      := and ("or" and)*
//! and     := unary ("and" unary)*
//! unary   := "not" unary | compare
//! compare := operand (("eq"|"ne"|"gt"|"ge"|"lt"|"le") operand)?
//! operand := "(" or ")" | function "(" args ")" | literal | column
//! ```
//! Literals: `'text'` (`''` escapes a quote), integers, decimals, `true`, `false`, `null`, bare
//! GUIDs, ISO-8601 date-times/dates. String comparison is case-insensitive (Dataverse default
//! collation). All errors use code 0x80060888 with the real service's message shapes.

use std::cmp::Ordering;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::errors::ApiError;
use crate::schema::{Access, Kind, Table};

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Guid(Uuid),
    DateTime(DateTime<Utc>),
}

impl Literal {
    fn edm(&self) -> &'static str {
        match self {
            Literal::Null => "null",
            Literal::Bool(_) => "Edm.Boolean",
            Literal::Int(_) => "Edm.Int32",
            Literal::Float(_) => "Edm.Double",
            Literal::Str(_) => "Edm.String",
            Literal::Guid(_) => "Edm.Guid",
            Literal::DateTime(_) => "Edm.DateTimeOffset",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CmpOp {
    /// Whether two values in the order `ord` satisfy the comparison.
    fn holds(self, ord: Ordering) -> bool {
        match self {
            CmpOp::Eq => ord == Ordering::Equal,
            CmpOp::Ne => ord != Ordering::Equal,
            CmpOp::Gt => ord == Ordering::Greater,
            CmpOp::Ge => ord != Ordering::Less,
            CmpOp::Lt => ord == Ordering::Less,
            CmpOp::Le => ord != Ordering::Greater,
        }
    }

    fn from_word(w: &str) -> Option<CmpOp> {
        Some(match w {
            "eq" => CmpOp::Eq,
            "ne" => CmpOp::Ne,
            "gt" => CmpOp::Gt,
            "ge" => CmpOp::Ge,
            "lt" => CmpOp::Lt,
            "le" => CmpOp::Le,
            _ => return None,
        })
    }

    fn kind_name(self) -> &'static str {
        match self {
            CmpOp::Eq => "Equal",
            CmpOp::Ne => "NotEqual",
            CmpOp::Gt => "GreaterThan",
            CmpOp::Ge => "GreaterThanOrEqual",
            CmpOp::Lt => "LessThan",
            CmpOp::Le => "LessThanOrEqual",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrFunc {
    Contains,
    StartsWith,
    EndsWith,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Column(String),
    Lit(Literal),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Compare(Operand, CmpOp, Operand),
    Func(StrFunc, String, String),
    /// A boolean column or literal used as a predicate.
    Truthy(Operand),
    /// `c eq a or c eq b or …` on one column (see [`Expr::with_any_of`]).
    AnyOf(String, Vec<Literal>),
}

// ---------------------------------------------------------------------------------------------
// Lexer

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    Comma,
    Str(String),
    /// A bare word: identifier, keyword, number, GUID or date-time (classified by the parser).
    Word(String),
}

struct Lexed {
    tok: Tok,
    pos: usize,
}

fn syntax_error(pos: usize, text: &str) -> ApiError {
    ApiError::odata(format!("Syntax error at position {pos} in '{text}'."))
}

fn lex(text: &str) -> Result<Vec<Lexed>, ApiError> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (pos, c) = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Lexed { tok: Tok::LParen, pos });
                i += 1;
            }
            ')' => {
                out.push(Lexed { tok: Tok::RParen, pos });
                i += 1;
            }
            ',' => {
                out.push(Lexed { tok: Tok::Comma, pos });
                i += 1;
            }
            '\'' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => {
                            return Err(ApiError::odata(format!("There is an unterminated string literal at position {pos} in '{text}'.")));
                        }
                        Some((_, '\'')) if matches!(chars.get(i + 1), Some((_, '\''))) => {
                            s.push('\'');
                            i += 2;
                        }
                        Some((_, '\'')) => {
                            i += 1;
                            break;
                        }
                        Some((_, ch)) => {
                            s.push(*ch);
                            i += 1;
                        }
                    }
                }
                out.push(Lexed { tok: Tok::Str(s), pos });
            }
            c if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '$') => {
                let start = i;
                while i < chars.len() && (chars[i].1.is_ascii_alphanumeric() || matches!(chars[i].1, '_' | '-' | '.' | ':' | '+')) {
                    i += 1;
                }
                let end = chars.get(i).map(|(p, _)| *p).unwrap_or(text.len());
                out.push(Lexed { tok: Tok::Word(text[chars[start].0..end].to_string()), pos });
            }
            _ => return Err(syntax_error(pos, text)),
        }
    }
    Ok(out)
}

fn is_identifier(w: &str) -> bool {
    let mut cs = w.chars();
    matches!(cs.next(), Some(c) if c.is_ascii_alphabetic() || c == '_') && cs.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}

/// Parse an ISO-8601 date-time (`2024-01-31T10:00:00Z`, offsets, fractional seconds) or a date.
pub fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)).map(|n| n.and_utc())
}

fn classify_literal(w: &str) -> Option<Literal> {
    match w {
        "null" => return Some(Literal::Null),
        "true" => return Some(Literal::Bool(true)),
        "false" => return Some(Literal::Bool(false)),
        _ => {}
    }
    if w.len() == 36
        && w.chars().filter(|c| *c == '-').count() == 4
        && let Ok(g) = Uuid::parse_str(w)
    {
        return Some(Literal::Guid(g));
    }
    if let Ok(n) = w.parse::<i64>() {
        return Some(Literal::Int(n));
    }
    if w.chars().next().is_some_and(|c| c.is_ascii_digit() || c == '-') {
        if w.contains('-') && w.len() >= 10 && w.as_bytes()[4] == b'-' {
            return parse_datetime(w).map(Literal::DateTime);
        }
        if let Ok(f) = w.trim_end_matches(['m', 'M', 'd', 'D']).parse::<f64>() {
            return Some(Literal::Float(f));
        }
    }
    None
}

// ---------------------------------------------------------------------------------------------
// Parser

pub struct Parser<'a> {
    text: &'a str,
    toks: Vec<Lexed>,
    i: usize,
    table: &'a Table,
}

/// Parse and type-check a `$filter` expression for `table`.
pub fn parse(text: &str, table: &Table) -> Result<Expr, ApiError> {
    let toks = lex(text)?;
    let mut p = Parser { text, toks, i: 0, table };
    if p.toks.is_empty() {
        return Err(syntax_error(0, text));
    }
    let e = p.or()?;
    if let Some(t) = p.toks.get(p.i) {
        return Err(syntax_error(t.pos, text));
    }
    Ok(e)
}

impl Parser<'_> {
    fn err_here(&self) -> ApiError {
        let pos = self.toks.get(self.i).map(|t| t.pos).unwrap_or(self.text.len());
        syntax_error(pos, self.text)
    }

    fn peek_word(&self, w: &str) -> bool {
        matches!(self.toks.get(self.i), Some(Lexed { tok: Tok::Word(x), .. }) if x == w)
    }

    fn expect(&mut self, tok: Tok) -> Result<(), ApiError> {
        match self.toks.get(self.i) {
            Some(t) if t.tok == tok => {
                self.i += 1;
                Ok(())
            }
            _ => Err(self.err_here()),
        }
    }

    fn or(&mut self) -> Result<Expr, ApiError> {
        let mut left = self.and()?;
        while self.peek_word("or") {
            self.i += 1;
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, ApiError> {
        let mut left = self.unary()?;
        while self.peek_word("and") {
            self.i += 1;
            let right = self.unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, ApiError> {
        // As in OData, `not` binds tighter than comparisons: `not a eq b` is `(not a) eq b`,
        // which is rejected; write `not (a eq b)`.
        if self.peek_word("not") {
            self.i += 1;
            let inner = if self.peek_word("not") {
                self.unary()?
            } else {
                match self.operand()? {
                    Parsed::Expr(e) => e,
                    Parsed::Operand(o) => {
                        let t = self.operand_type(&o);
                        if t != "Edm.Boolean" {
                            return Err(ApiError::odata(format!(
                                "A unary operator with an incompatible type was detected. Found operand type '{t}' for operator kind 'Not'."
                            )));
                        }
                        Expr::Truthy(o)
                    }
                }
            };
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.compare()
    }

    fn compare(&mut self) -> Result<Expr, ApiError> {
        let left = self.operand()?;
        let op = match self.toks.get(self.i) {
            Some(Lexed { tok: Tok::Word(w), .. }) => CmpOp::from_word(w),
            _ => None,
        };
        let left = match (left, op) {
            (Parsed::Expr(e), None) => return Ok(e),
            (Parsed::Operand(o), None) => {
                if self.operand_type(&o) != "Edm.Boolean" {
                    return Err(self.err_here());
                }
                return Ok(Expr::Truthy(o));
            }
            (Parsed::Expr(_), Some(_)) => return Err(self.err_here()),
            (Parsed::Operand(o), Some(_)) => o,
        };
        let op = op.expect("checked");
        self.i += 1;
        let right = match self.operand()? {
            Parsed::Operand(o) => o,
            Parsed::Expr(_) => return Err(self.err_here()),
        };
        self.check_types(&left, op, &right)?;
        Ok(Expr::Compare(left, op, right))
    }

    fn operand_type(&self, o: &Operand) -> &'static str {
        match o {
            Operand::Column(c) => self.table.column(c).map(|c| c.kind.edm()).unwrap_or("Edm.String"),
            Operand::Lit(l) => l.edm(),
        }
    }

    fn check_types(&self, left: &Operand, op: CmpOp, right: &Operand) -> Result<(), ApiError> {
        let family = |t: &'static str| match t {
            "Edm.Int32" | "Edm.Int64" | "Edm.Double" | "Edm.Decimal" => "number",
            other => other,
        };
        let (l, r) = (self.operand_type(left), self.operand_type(right));
        if l == "null" || r == "null" || family(l) == family(r) {
            if l == "Edm.Binary" || r == "Edm.Binary" {
                return Err(ApiError::odata(format!(
                    "The operand for a binary operator '{}' is not a single value. Binary operators require both operands to be single values.",
                    op.kind_name()
                )));
            }
            return Ok(());
        }
        Err(ApiError::odata(format!(
            "A binary operator with incompatible types was detected. Found operand types '{l}' and '{r}' for operator kind '{}'.",
            op.kind_name()
        )))
    }

    fn column(&self, name: &str) -> Result<Operand, ApiError> {
        match self.table.column(name) {
            Some(c) if c.access != Access::WriteOnly => Ok(Operand::Column(name.to_string())),
            _ => Err(ApiError::unknown_property(name, &self.table.type_name())),
        }
    }

    fn operand(&mut self) -> Result<Parsed, ApiError> {
        let Some(t) = self.toks.get(self.i) else {
            return Err(self.err_here());
        };
        match &t.tok {
            Tok::LParen => {
                self.i += 1;
                let e = self.or()?;
                self.expect(Tok::RParen)?;
                Ok(Parsed::Expr(e))
            }
            Tok::Str(s) => {
                let s = s.clone();
                self.i += 1;
                Ok(Parsed::Operand(Operand::Lit(Literal::Str(s))))
            }
            Tok::Word(w) => {
                let w = w.clone();
                self.i += 1;
                if matches!(self.toks.get(self.i), Some(Lexed { tok: Tok::LParen, .. })) && is_identifier(&w) {
                    return self.function(&w).map(Parsed::Expr);
                }
                if let Some(lit) = classify_literal(&w) {
                    return Ok(Parsed::Operand(Operand::Lit(lit)));
                }
                if CmpOp::from_word(&w).is_some() || matches!(w.as_str(), "and" | "or" | "not") || !is_identifier(&w) {
                    self.i -= 1;
                    return Err(self.err_here());
                }
                self.column(&w).map(Parsed::Operand)
            }
            Tok::RParen | Tok::Comma => Err(self.err_here()),
        }
    }

    fn function(&mut self, name: &str) -> Result<Expr, ApiError> {
        let f = match name {
            "contains" => StrFunc::Contains,
            "startswith" => StrFunc::StartsWith,
            "endswith" => StrFunc::EndsWith,
            _ => {
                return Err(ApiError::odata(format!(
                    "An unknown function with name '{name}' was found. This may also be a function import or a key lookup on a navigation property, which is not allowed."
                )));
            }
        };
        self.expect(Tok::LParen)?;
        let col = match self.operand()? {
            Parsed::Operand(o) => o,
            Parsed::Expr(_) => return Err(self.err_here()),
        };
        self.expect(Tok::Comma)?;
        let arg = match self.operand()? {
            Parsed::Operand(o) => o,
            Parsed::Expr(_) => return Err(self.err_here()),
        };
        self.expect(Tok::RParen)?;
        match (col, arg) {
            (Operand::Column(c), Operand::Lit(Literal::Str(s))) if self.table.column(&c).is_some_and(|c| c.kind == Kind::String) => {
                Ok(Expr::Func(f, c, s))
            }
            _ => Err(ApiError::odata(format!(
                "No function signature for the function with name '{name}' matches the specified arguments. The function signatures considered are: {name}(Edm.String Nullable=true, Edm.String Nullable=true)."
            ))),
        }
    }
}

enum Parsed {
    Expr(Expr),
    Operand(Operand),
}

// ---------------------------------------------------------------------------------------------
// Evaluation

/// Convert a stored JSON value to a comparable literal according to the column kind.
pub fn value_to_literal(kind: &Kind, v: &Value) -> Literal {
    match v {
        Value::Null => Literal::Null,
        Value::Bool(b) => Literal::Bool(*b),
        Value::Number(n) => n.as_i64().map(Literal::Int).unwrap_or_else(|| Literal::Float(n.as_f64().unwrap_or(0.0))),
        Value::String(s) => match kind {
            Kind::Guid | Kind::Lookup { .. } => Uuid::parse_str(s).map(Literal::Guid).unwrap_or(Literal::Str(s.clone())),
            Kind::DateTime => parse_datetime(s).map(Literal::DateTime).unwrap_or(Literal::Str(s.clone())),
            _ => Literal::Str(s.clone()),
        },
        other => Literal::Str(other.to_string()),
    }
}

/// Order two texts case-insensitively: ASCII without allocating (the same order as
/// lowercasing both), other text lowercased whole.
fn compare_text(x: &str, y: &str) -> Ordering {
    if x.is_ascii() && y.is_ascii() {
        x.bytes().map(|c| c.to_ascii_lowercase()).cmp(y.bytes().map(|c| c.to_ascii_lowercase()))
    } else {
        x.to_lowercase().cmp(&y.to_lowercase())
    }
}

/// Order two non-null literals (strings case-insensitively).
pub fn compare_literals(a: &Literal, b: &Literal) -> Option<Ordering> {
    use Literal::*;
    match (a, b) {
        (Str(x), Str(y)) => Some(compare_text(x, y)),
        (Int(x), Int(y)) => Some(x.cmp(y)),
        (Int(x), Float(y)) => (*x as f64).partial_cmp(y),
        (Float(x), Int(y)) => x.partial_cmp(&(*y as f64)),
        (Float(x), Float(y)) => x.partial_cmp(y),
        (Bool(x), Bool(y)) => Some(x.cmp(y)),
        (Guid(x), Guid(y)) => Some(x.cmp(y)),
        (DateTime(x), DateTime(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

impl Expr {
    /// Three-valued evaluation: `None` is SQL "unknown" (treated as not matching).
    pub fn eval(&self, table: &Table, row: &Map<String, Value>) -> Option<bool> {
        self.eval_in(&mut RowView::new(table, row))
    }

    fn eval_in<'e>(&'e self, view: &mut RowView<'_, 'e>) -> Option<bool> {
        match self {
            // The right side only when the left does not decide (the same three-valued result:
            // evaluating has no effects), so a row fails a selection at its first condition.
            Expr::And(a, b) => match a.eval_in(view) {
                Some(false) => Some(false),
                left => match (left, b.eval_in(view)) {
                    (_, Some(false)) => Some(false),
                    (Some(true), Some(true)) => Some(true),
                    _ => None,
                },
            },
            Expr::Or(a, b) => match a.eval_in(view) {
                Some(true) => Some(true),
                left => match (left, b.eval_in(view)) {
                    (_, Some(true)) => Some(true),
                    (Some(false), Some(false)) => Some(false),
                    _ => None,
                },
            },
            Expr::Not(e) => e.eval_in(view).map(|b| !b),
            // As the chain of `eq` it stands for: true if one is equal, unknown if none is and
            // one could not be compared (a null column, or another type), else false.
            Expr::AnyOf(column, values) => {
                let value = view.column(column);
                if *value == Literal::Null {
                    return None;
                }
                let mut unknown = false;
                for v in values {
                    match compare_literals(value, v) {
                        Some(Ordering::Equal) => return Some(true),
                        Some(_) => {}
                        None => unknown = true,
                    }
                }
                if unknown { None } else { Some(false) }
            }
            Expr::Truthy(o) => {
                let side = view.side(o);
                match view.get(&side) {
                    Literal::Bool(b) => Some(*b),
                    _ => None,
                }
            }
            Expr::Func(f, col, arg) => match view.column(col) {
                Literal::Str(s) => {
                    let (s, arg) = (s.to_lowercase(), arg.to_lowercase());
                    Some(match f {
                        StrFunc::Contains => s.contains(&arg),
                        StrFunc::StartsWith => s.starts_with(&arg),
                        StrFunc::EndsWith => s.ends_with(&arg),
                    })
                }
                _ => None,
            },
            Expr::Compare(l, op, r) => {
                let (a, b) = (view.side(l), view.side(r));
                match (view.get(&a), view.get(&b)) {
                    (Literal::Null, Literal::Null) => match op {
                        CmpOp::Eq => Some(true),
                        CmpOp::Ne => Some(false),
                        _ => None,
                    },
                    (Literal::Null, _) | (_, Literal::Null) => {
                        let null_literal = matches!(l, Operand::Lit(Literal::Null)) || matches!(r, Operand::Lit(Literal::Null));
                        match op {
                            CmpOp::Eq if null_literal => Some(false),
                            CmpOp::Ne if null_literal => Some(true),
                            _ => None,
                        }
                    }
                    (a, b) => {
                        let ord = compare_literals(a, b)?;
                        Some(op.holds(ord))
                    }
                }
            }
        }
    }

    /// Whether the condition is true (not false, not unknown) of the row: [`Expr::eval`] is
    /// `Some(true)` exactly then, but an `and` stops at a left side that is unknown too (a
    /// null completion time, most rows of a read of results), which three-valued logic has to
    /// evaluate on; only under a `not` does the difference between false and unknown count.
    fn holds_in<'e>(&'e self, view: &mut RowView<'_, 'e>) -> bool {
        match self {
            Expr::And(a, b) => a.holds_in(view) && b.holds_in(view),
            Expr::Or(a, b) => a.holds_in(view) || b.holds_in(view),
            other => other.eval_in(view) == Some(true),
        }
    }

    /// The same condition with each `or` chain of `eq` on one column (the ids a client asks
    /// for, 50 a query) read as one test of the column: the service answers them from an
    /// index, and evaluating the chain read and converted the column once per id for every
    /// row of the table.
    pub fn with_any_of(self) -> Expr {
        fn leaves<'e>(e: &'e Expr, column: &mut Option<&'e str>, values: &mut Vec<Literal>) -> bool {
            match e {
                Expr::Or(a, b) => leaves(a, column, values) && leaves(b, column, values),
                Expr::Compare(Operand::Column(c), CmpOp::Eq, Operand::Lit(l))
                | Expr::Compare(Operand::Lit(l), CmpOp::Eq, Operand::Column(c))
                    if *l != Literal::Null && column.is_none_or(|col| col == c) =>
                {
                    *column = Some(c);
                    values.push(l.clone());
                    true
                }
                _ => false,
            }
        }
        match self {
            Expr::Or(a, b) => {
                let (mut column, mut values) = (None, Vec::new());
                if leaves(&a, &mut column, &mut values)
                    && leaves(&b, &mut column, &mut values)
                    && let Some(column) = column
                {
                    return Expr::AnyOf(column.to_string(), values);
                }
                Expr::Or(Box::new(a.with_any_of()), Box::new(b.with_any_of()))
            }
            Expr::And(a, b) => Expr::And(Box::new(a.with_any_of()), Box::new(b.with_any_of())),
            Expr::Not(e) => Expr::Not(Box::new(e.with_any_of())),
            other => other,
        }
    }

    /// The values of the Guid column `column` one of which a matching row must hold, when the
    /// filter requires that (`eq` on the column, or an [`Expr::AnyOf`] of Guids, alone or in
    /// an `and`); `None` when any row may match. The rows to test are then found by key, as
    /// the service's index on a primary key finds them, instead of by testing every row.
    pub fn required_guids(&self, column: &str) -> Option<Vec<Uuid>> {
        match self {
            Expr::And(a, b) => a.required_guids(column).or_else(|| b.required_guids(column)),
            Expr::AnyOf(c, values) if c == column => {
                values.iter().map(|v| if let Literal::Guid(g) = v { Some(*g) } else { None }).collect()
            }
            Expr::Compare(Operand::Column(c), CmpOp::Eq, Operand::Lit(Literal::Guid(g)))
            | Expr::Compare(Operand::Lit(Literal::Guid(g)), CmpOp::Eq, Operand::Column(c))
                if c == column =>
            {
                Some(vec![*g])
            }
            _ => None,
        }
    }

    /// Whether the row matches (unknown counts as no).
    pub fn matches(&self, table: &Table, row: &Map<String, Value>) -> bool {
        self.holds_in(&mut RowView::new(table, row))
    }
}

/// One row as a filter reads it: each column it names is looked up and converted once, however
/// often the filter names it (the name ranges of a poll's chunks name `name` up to sixteen
/// times, and each lookup searched the row's hundred columns).
struct RowView<'r, 'e> {
    table: &'r Table,
    row: &'r Map<String, Value>,
    read: Vec<(&'e str, Literal)>,
}

/// An operand's value: a literal of the filter as it is (not copied for every row), or a
/// column's, converted, in [`RowView::read`].
enum Side<'e> {
    Lit(&'e Literal),
    Read(usize),
}

impl<'r, 'e> RowView<'r, 'e> {
    fn new(table: &'r Table, row: &'r Map<String, Value>) -> Self {
        RowView { table, row, read: Vec::new() }
    }

    /// Where `column`'s value is in `read`, reading it the first time.
    fn slot(&mut self, column: &'e str) -> usize {
        if let Some(i) = self.read.iter().position(|(c, _)| *c == column) {
            return i;
        }
        self.read.push((column, column_literal(self.table, self.row, column)));
        self.read.len() - 1
    }

    /// `column`'s value, read the first time.
    fn column(&mut self, column: &'e str) -> &Literal {
        let i = self.slot(column);
        &self.read[i].1
    }

    fn side(&mut self, o: &'e Operand) -> Side<'e> {
        match o {
            Operand::Lit(l) => Side::Lit(l),
            Operand::Column(c) => Side::Read(self.slot(c)),
        }
    }

    fn get<'s>(&'s self, side: &Side<'e>) -> &'s Literal
    where
        'e: 's,
    {
        match side {
            Side::Lit(l) => l,
            Side::Read(i) => &self.read[*i].1,
        }
    }
}

fn column_literal(table: &Table, row: &Map<String, Value>, column: &str) -> Literal {
    let value = row.get(column).unwrap_or(&Value::Null);
    // Only text is read by its column's kind (a Guid, a date-time): a number, a boolean or a
    // null is what it is, and this runs per row, where the schema's lookup cost as much as
    // the row's. Borrowed, not cloned: a picklist's kind holds its options.
    let kind = if value.is_string() { table.column(column).map_or(&Kind::String, |c| &c.kind) } else { &Kind::String };
    value_to_literal(kind, value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Schema;
    use serde_json::json;

    fn mailboxes() -> &'static Table {
        Schema::get().by_entity_set("mailboxes").unwrap()
    }

    fn row(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn check(filter: &str, v: Value) -> bool {
        let t = mailboxes();
        parse(filter, t).unwrap_or_else(|e| panic!("{filter}: {e:?}")).matches(t, &row(v))
    }

    #[test]
    fn escaped_quote_in_string_literal() {
        let e = parse("name eq 'Liam O''Brien'", mailboxes()).unwrap();
        assert_eq!(e, Expr::Compare(Operand::Column("name".into()), CmpOp::Eq, Operand::Lit(Literal::Str("Liam O'Brien".into()))));
        assert!(check("name eq 'Liam O''Brien'", json!({"name": "Liam O'Brien"})));
        assert!(check("contains(name,'''')", json!({"name": "Liam O'Brien"})));
        assert!(!check("contains(name,'''')", json!({"name": "Avery Adams"})));
    }

    #[test]
    fn text_compares_case_insensitively_on_either_side_and_a_null_is_unknown() {
        let row = json!({"name": "Hiro Chen 7018", "emailaddress": null});
        for (filter, expected) in [
            ("name ge 'hiro chen 7018'", true),
            ("name gt 'HIRO CHEN 7018'", false),
            ("name lt 'Hiro Chen 702'", true),
            ("'Hiro Chen 702' gt name", true),
            ("'Hiro Chen 702' le name", false),
            ("name ne 'Hiro Chen 7018'", false),
            ("name ge 'Éa'", false),
            // Unknown, not true, whatever the operator (a null column).
            ("emailaddress lt 'a'", false),
            ("emailaddress ge 'a'", false),
            ("not (emailaddress ge 'a')", false),
        ] {
            assert_eq!(check(filter, row.clone()), expected, "{filter}");
        }
    }

    #[test]
    fn an_or_chain_of_eq_on_one_column_is_one_test_that_matches_as_the_chain_does() {
        let t = mailboxes();
        let (a, b) = ("00000000-0000-4000-8000-00000000000a", "00000000-0000-4000-8000-00000000000b");
        let chain = format!("mailboxid eq {a} or mailboxid eq {b} or mailboxid eq {a}");
        let any = parse(&chain, t).unwrap().with_any_of();
        let Expr::AnyOf(column, values) = &any else { panic!("not one test: {any:?}") };
        assert_eq!((column.as_str(), values.len()), ("mailboxid", 3));
        // Inside an and, and beside other conditions; a chain over two columns, or with a null,
        // stays a chain.
        let mixed = parse(&format!("statecode eq 0 and ({chain})"), t).unwrap().with_any_of();
        assert!(matches!(&mixed, Expr::And(_, r) if matches!(**r, Expr::AnyOf(..))));
        let two = parse(&format!("mailboxid eq {a} or name eq 'x'"), t).unwrap().with_any_of();
        assert!(matches!(two, Expr::Or(..)));
        let null = parse(&format!("mailboxid eq {a} or mailboxid eq null"), t).unwrap().with_any_of();
        assert!(matches!(null, Expr::Or(..)));
        let rows = [
            json!({"mailboxid": a}),
            json!({"mailboxid": b}),
            json!({"mailboxid": "00000000-0000-4000-8000-00000000000c"}),
            json!({"mailboxid": null}),
            json!({}),
        ];
        for filter in [chain.clone(), format!("not ({chain})"), format!("statecode eq 0 and ({chain})")] {
            let plain = parse(&filter, t).unwrap();
            let any = plain.clone().with_any_of();
            assert_ne!(plain, any, "{filter}");
            for r in &rows {
                let mut r = row(r.clone());
                r.insert("statecode".into(), json!(0));
                assert_eq!(plain.eval(t, &r), any.eval(t, &r), "{filter} on {r:?}");
            }
        }
        assert!(any.matches(t, &row(json!({"mailboxid": b}))));
        assert!(!any.matches(t, &row(json!({"mailboxid": "00000000-0000-4000-8000-00000000000c"}))));
    }

    #[test]
    fn matching_stops_early_yet_agrees_with_three_valued_logic() {
        let t = mailboxes();
        let filters = [
            "testmailboxaccesscompletedon ge 2026-01-01T00:00:00Z and ((name ge 'b' and name le 'c') or (name ge 'x' and name le 'z')) and statecode eq 0",
            "not (testmailboxaccesscompletedon ge 2026-01-01T00:00:00Z and name ge 'b')",
            "not (emailaddress eq 'a@b' or name le 'c')",
            "(name ge 'b' or emailaddress eq 'a@b') and not (name gt 'y')",
            "testemailconfigurationscheduled and statecode eq 0",
            "emailaddress eq null or name eq 'b'",
        ];
        let rows = [
            json!({"name": "bea", "statecode": 0, "testmailboxaccesscompletedon": "2026-06-01T00:00:00Z", "emailaddress": null}),
            json!({"name": "bea", "statecode": 0, "testmailboxaccesscompletedon": null, "emailaddress": "a@b"}),
            json!({"name": "yves", "statecode": 1, "testmailboxaccesscompletedon": "2025-06-01T00:00:00Z", "testemailconfigurationscheduled": true}),
            json!({"name": "zz", "statecode": 0, "testemailconfigurationscheduled": true, "emailaddress": "q@r"}),
            json!({"name": null, "statecode": 0}),
            json!({}),
        ];
        let mut both = [0, 0];
        for filter in filters {
            let e = parse(filter, t).unwrap_or_else(|err| panic!("{filter}: {err:?}"));
            for r in &rows {
                let r = row(r.clone());
                let matched = e.matches(t, &r);
                assert_eq!(matched, e.eval(t, &r) == Some(true), "{filter} on {r:?}");
                both[usize::from(matched)] += 1;
            }
        }
        // Both answers occur: the comparison above is not of two constant results.
        assert!(both[0] > 0 && both[1] > 0, "{both:?}");
    }

    #[test]
    fn and_binds_tighter_than_or() {
        let t = mailboxes();
        let e = parse("statecode eq 1 or statecode eq 0 and actdeliverymethod eq 1", t).unwrap();
        assert!(matches!(e, Expr::Or(_, _)));
        // statecode 1 alone satisfies the left side of the or.
        assert!(e.matches(t, &row(json!({"statecode": 1, "actdeliverymethod": 0}))));
        assert!(!e.matches(t, &row(json!({"statecode": 0, "actdeliverymethod": 0}))));
        let p = parse("(statecode eq 1 or statecode eq 0) and actdeliverymethod eq 1", t).unwrap();
        assert!(matches!(p, Expr::And(_, _)));
        assert!(!p.matches(t, &row(json!({"statecode": 1, "actdeliverymethod": 0}))));
    }

    #[test]
    fn not_and_nulls() {
        assert!(check("not (statecode eq 1)", json!({"statecode": 0})));
        assert!(parse("not statecode eq 0", mailboxes()).is_err());
        assert!(check("not testemailconfigurationscheduled", json!({"testemailconfigurationscheduled": false})));
        assert!(check("_emailserverprofile_value eq null", json!({"_emailserverprofile_value": null})));
        assert!(!check("_emailserverprofile_value ne null", json!({"_emailserverprofile_value": null})));
        // Comparison with a null column is unknown: neither it nor its negation matches.
        assert!(!check("emailaddress ne 'x@y'", json!({"emailaddress": null})));
        assert!(!check("not (emailaddress eq 'x@y')", json!({"emailaddress": null})));
    }

    #[test]
    fn guids_datetimes_bools_functions() {
        let id = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";
        assert!(check(&format!("_regardingobjectid_value eq {id}"), json!({"_regardingobjectid_value": id.to_uppercase()})));
        assert!(check("createdon ge 2024-01-01T00:00:00Z and createdon lt 2024-02-01", json!({"createdon": "2024-01-15T10:00:00Z"})));
        assert!(check("testemailconfigurationscheduled eq false", json!({"testemailconfigurationscheduled": false})));
        assert!(check("testemailconfigurationscheduled", json!({"testemailconfigurationscheduled": true})));
        assert!(check("startswith(emailaddress,'LIAM.')", json!({"emailaddress": "liam.obrien@contoso.example"})));
        assert!(check("endswith(emailaddress,'@contoso.example')", json!({"emailaddress": "liam.obrien@contoso.example"})));
        assert!(check("name eq 'AVERY ADAMS'", json!({"name": "Avery Adams"})));
        assert!(check("verboseloggingenabled gt -1", json!({"verboseloggingenabled": 0})));
    }

    #[test]
    fn unknown_column_is_named() {
        let e = parse("regardingobjecttypecode eq 8", mailboxes()).unwrap_err();
        assert_eq!(e.code, "0x80060888");
        assert_eq!(e.message, "Could not find a property named 'regardingobjecttypecode' on type 'Microsoft.Dynamics.CRM.mailbox'.");
        let e = parse("contains(nosuch,'a')", mailboxes()).unwrap_err();
        assert!(e.message.contains("'nosuch'"), "{}", e.message);
    }

    #[test]
    fn syntax_and_type_errors() {
        for bad in [
            "name eq",
            "name eq 'x' and",
            "(name eq 'x'",
            "name eq 'x')",
            "name eq 'unterminated",
            "eq 1",
            "name 'x'",
            "",
            "statecode eq 0 0",
        ] {
            let e = parse(bad, mailboxes()).unwrap_err();
            assert_eq!(e.code, "0x80060888", "{bad}");
            assert_eq!(e.status, 400);
        }
        let e = parse("_emailserverprofile_value eq 'abc'", mailboxes()).unwrap_err();
        assert!(e.message.contains("incompatible types"), "{}", e.message);
        let e = parse("statecode eq '0'", mailboxes()).unwrap_err();
        assert!(e.message.contains("'Edm.Int32' and 'Edm.String'"), "{}", e.message);
        let e = parse("tolower(name) eq 'x'", mailboxes()).unwrap_err();
        assert!(e.message.contains("unknown function"), "{}", e.message);
        assert!(parse("contains(statecode,'1')", mailboxes()).is_err());
        assert!(parse("password eq 'x'", mailboxes()).is_err());
    }
}
