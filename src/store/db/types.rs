//! What crosses the handle: parameters ([`Value`], bound to whatever type
//! the engine expects) and columns ([`FromCol`], read from whatever integer
//! or text type a query produced).

use anyhow::{anyhow, bail, Result};

/// A parameter's value, borrowed from the caller where it can be.
#[derive(Debug, Clone)]
pub enum Value<'a> {
    Null,
    Int(i64),
    Bool(bool),
    Text(&'a str),
    Owned(String),
    Blob(&'a [u8]),
}

/// What can be bound as a parameter.
pub trait Arg: Sync {
    fn value(&self) -> Value<'_>;
}

macro_rules! int_arg {
    ($($t:ty),*) => {$(
        impl Arg for $t {
            fn value(&self) -> Value<'_> {
                Value::Int(i64::from(*self))
            }
        }
    )*};
}
int_arg!(i64, i32, u32, i16, u16, i8, u8);

impl Arg for usize {
    fn value(&self) -> Value<'_> {
        // A count or an index: always far below i64::MAX here.
        Value::Int(i64::try_from(*self).unwrap_or(i64::MAX))
    }
}

impl Arg for u64 {
    fn value(&self) -> Value<'_> {
        Value::Int(i64::try_from(*self).unwrap_or(i64::MAX))
    }
}

impl Arg for bool {
    fn value(&self) -> Value<'_> {
        Value::Bool(*self)
    }
}

impl Arg for str {
    fn value(&self) -> Value<'_> {
        Value::Text(self)
    }
}

impl Arg for String {
    fn value(&self) -> Value<'_> {
        Value::Text(self)
    }
}

impl Arg for [u8] {
    fn value(&self) -> Value<'_> {
        Value::Blob(self)
    }
}

impl Arg for Vec<u8> {
    fn value(&self) -> Value<'_> {
        Value::Blob(self)
    }
}

impl Arg for chrono::NaiveDate {
    fn value(&self) -> Value<'_> {
        Value::Owned(self.format("%Y-%m-%d").to_string())
    }
}

impl<T: Arg + ?Sized> Arg for &T {
    fn value(&self) -> Value<'_> {
        (**self).value()
    }
}

impl<T: Arg> Arg for Option<T> {
    fn value(&self) -> Value<'_> {
        match self {
            Some(v) => v.value(),
            None => Value::Null,
        }
    }
}

impl Arg for Value<'_> {
    fn value(&self) -> Value<'_> {
        self.clone()
    }
}

/// A statement's parameters: `params![a, b]`, `[a, b]`, `(a, b)` or `[]`.
pub trait Params {
    fn values(&self) -> Vec<Value<'_>>;
}

impl Params for [&dyn Arg; 0] {
    fn values(&self) -> Vec<Value<'_>> {
        Vec::new()
    }
}

impl Params for &[&dyn Arg] {
    fn values(&self) -> Vec<Value<'_>> {
        self.iter().map(|a| a.value()).collect()
    }
}

impl Params for Vec<Value<'_>> {
    fn values(&self) -> Vec<Value<'_>> {
        self.clone()
    }
}

macro_rules! array_params {
    ($($n:literal),*) => {$(
        impl<T: Arg> Params for [T; $n] {
            fn values(&self) -> Vec<Value<'_>> {
                self.iter().map(|a| a.value()).collect()
            }
        }
    )*};
}
array_params!(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20);

macro_rules! tuple_params {
    ($(($($t:ident . $i:tt),*)),*) => {$(
        impl<$($t: Arg),*> Params for ($($t,)*) {
            fn values(&self) -> Vec<Value<'_>> {
                vec![$(self.$i.value()),*]
            }
        }
    )*};
}
tuple_params!(
    (A.0),
    (A.0, B.1),
    (A.0, B.1, C.2),
    (A.0, B.1, C.2, D.3),
    (A.0, B.1, C.2, D.3, E.4),
    (A.0, B.1, C.2, D.3, E.4, F.5),
    (A.0, B.1, C.2, D.3, E.4, F.5, G.6)
);

/// `params![a, b, …]`: a statement's parameters, of mixed types.
#[macro_export]
macro_rules! params {
    () => {
        [] as [&dyn $crate::store::db::Arg; 0]
    };
    ($($x:expr),+ $(,)?) => {
        [$(&$x as &dyn $crate::store::db::Arg),+]
    };
}

impl rusqlite::ToSql for Value<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, Value as V, ValueRef};
        Ok(match self {
            Value::Null => ToSqlOutput::Owned(V::Null),
            Value::Int(i) => ToSqlOutput::Owned(V::Integer(*i)),
            Value::Bool(b) => ToSqlOutput::Owned(V::Integer(i64::from(*b))),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Value::Owned(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Value::Blob(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        })
    }
}

impl postgres::types::ToSql for Value<'_> {
    fn to_sql(
        &self,
        ty: &postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>>
    {
        use postgres::types::{IsNull, Type};
        let int =
            |i: i64,
             out: &mut bytes::BytesMut|
             -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
                match *ty {
                    Type::INT8 => i.to_sql(ty, out),
                    Type::INT4 => i32::try_from(i)?.to_sql(ty, out),
                    Type::INT2 => i16::try_from(i)?.to_sql(ty, out),
                    Type::NUMERIC => rust_decimal::Decimal::from(i).to_sql(ty, out),
                    Type::BOOL => (i != 0).to_sql(ty, out),
                    Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                        i.to_string().as_str().to_sql(ty, out)
                    }
                    _ => Err(format!("an integer cannot be bound as {ty}").into()),
                }
            };
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) => int(*i, out),
            Value::Bool(b) => match *ty {
                Type::BOOL => b.to_sql(ty, out),
                _ => int(i64::from(*b), out),
            },
            Value::Text(s) => text_to_pg(s, ty, out),
            Value::Owned(s) => text_to_pg(s, ty, out),
            Value::Blob(b) => b.to_sql(ty, out),
        }
    }

    fn accepts(_: &postgres::types::Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

fn text_to_pg(
    s: &str,
    ty: &postgres::types::Type,
    out: &mut bytes::BytesMut,
) -> std::result::Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
    use postgres::types::{ToSql, Type};
    match *ty {
        Type::INT8 => s.parse::<i64>()?.to_sql(ty, out),
        Type::INT4 => s.parse::<i32>()?.to_sql(ty, out),
        Type::NUMERIC => s.parse::<rust_decimal::Decimal>()?.to_sql(ty, out),
        _ => s.to_sql(&Type::TEXT, out),
    }
}

/// What a column can be read as.
pub trait FromCol: Sized {
    /// `None` for NULL.
    fn lite(v: rusqlite::types::ValueRef<'_>) -> Result<Option<Self>>;
    /// `None` for NULL.
    fn pg(r: &postgres::Row, i: usize) -> Result<Option<Self>>;
}

fn lite_type(v: rusqlite::types::ValueRef<'_>) -> &'static str {
    match v.data_type() {
        rusqlite::types::Type::Null => "NULL",
        rusqlite::types::Type::Integer => "an integer",
        rusqlite::types::Type::Real => "a real number",
        rusqlite::types::Type::Text => "text",
        rusqlite::types::Type::Blob => "a blob",
    }
}

impl FromCol for i64 {
    fn lite(v: rusqlite::types::ValueRef<'_>) -> Result<Option<Self>> {
        use rusqlite::types::ValueRef;
        match v {
            ValueRef::Null => Ok(None),
            ValueRef::Integer(i) => Ok(Some(i)),
            other => bail!("expected an integer, found {}", lite_type(other)),
        }
    }

    fn pg(r: &postgres::Row, i: usize) -> Result<Option<Self>> {
        use postgres::types::Type;
        let ty = r.columns()[i].type_().clone();
        Ok(match ty {
            Type::INT8 => r.try_get::<_, Option<i64>>(i)?,
            Type::INT4 => r.try_get::<_, Option<i32>>(i)?.map(i64::from),
            Type::INT2 => r.try_get::<_, Option<i16>>(i)?.map(i64::from),
            Type::BOOL => r.try_get::<_, Option<bool>>(i)?.map(i64::from),
            Type::NUMERIC => match r.try_get::<_, Option<rust_decimal::Decimal>>(i)? {
                None => None,
                Some(d) => {
                    if !d.fract().is_zero() {
                        bail!("expected an integer, found {d}");
                    }
                    Some(
                        i64::try_from(d)
                            .map_err(|_| anyhow!("{d} does not fit a 64-bit integer"))?,
                    )
                }
            },
            other => bail!("expected an integer, found a column of type {other}"),
        })
    }
}

macro_rules! narrow_from_col {
    ($($t:ty),*) => {$(
        impl FromCol for $t {
            fn lite(v: rusqlite::types::ValueRef<'_>) -> Result<Option<Self>> {
                i64::lite(v)?
                    .map(|i| <$t>::try_from(i).map_err(|_| anyhow!("{i} is out of range")))
                    .transpose()
            }

            fn pg(r: &postgres::Row, i: usize) -> Result<Option<Self>> {
                i64::pg(r, i)?
                    .map(|i| <$t>::try_from(i).map_err(|_| anyhow!("{i} is out of range")))
                    .transpose()
            }
        }
    )*};
}
narrow_from_col!(i32, u32, u64, usize, u8, i16, u16);

impl FromCol for bool {
    fn lite(v: rusqlite::types::ValueRef<'_>) -> Result<Option<Self>> {
        Ok(i64::lite(v)?.map(|i| i != 0))
    }

    fn pg(r: &postgres::Row, i: usize) -> Result<Option<Self>> {
        Ok(i64::pg(r, i)?.map(|i| i != 0))
    }
}

impl FromCol for String {
    fn lite(v: rusqlite::types::ValueRef<'_>) -> Result<Option<Self>> {
        use rusqlite::types::ValueRef;
        match v {
            ValueRef::Null => Ok(None),
            ValueRef::Text(t) => Ok(Some(
                std::str::from_utf8(t)
                    .map_err(|e| anyhow!("text is not UTF-8: {e}"))?
                    .to_string(),
            )),
            other => bail!("expected text, found {}", lite_type(other)),
        }
    }

    fn pg(r: &postgres::Row, i: usize) -> Result<Option<Self>> {
        Ok(r.try_get::<_, Option<String>>(i)?)
    }
}

impl FromCol for Vec<u8> {
    fn lite(v: rusqlite::types::ValueRef<'_>) -> Result<Option<Self>> {
        use rusqlite::types::ValueRef;
        match v {
            ValueRef::Null => Ok(None),
            ValueRef::Blob(b) | ValueRef::Text(b) => Ok(Some(b.to_vec())),
            other => bail!("expected bytes, found {}", lite_type(other)),
        }
    }

    fn pg(r: &postgres::Row, i: usize) -> Result<Option<Self>> {
        Ok(r.try_get::<_, Option<Vec<u8>>>(i)?)
    }
}

impl FromCol for chrono::NaiveDate {
    fn lite(v: rusqlite::types::ValueRef<'_>) -> Result<Option<Self>> {
        String::lite(v)?.map(|s| parse_date(&s)).transpose()
    }

    fn pg(r: &postgres::Row, i: usize) -> Result<Option<Self>> {
        String::pg(r, i)?.map(|s| parse_date(&s)).transpose()
    }
}

fn parse_date(s: &str) -> Result<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| anyhow!("{s:?} is not a date (YYYY-MM-DD)"))
}

impl<T: FromCol> FromCol for Option<T> {
    fn lite(v: rusqlite::types::ValueRef<'_>) -> Result<Option<Self>> {
        Ok(Some(T::lite(v)?))
    }

    fn pg(r: &postgres::Row, i: usize) -> Result<Option<Self>> {
        Ok(Some(T::pg(r, i)?))
    }
}
