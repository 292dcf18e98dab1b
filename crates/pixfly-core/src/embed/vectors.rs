//! Embedding matrices as `.npy` files, the format numpy users load with one call.

use ndarray::Array2;
use ndarray_npy::{ReadNpyExt, WriteNpyExt};

/// `rows` (all of length `dims`) as a float32 `.npy` file's bytes.
pub fn to_npy(rows: &[&[f32]], dims: usize) -> Vec<u8> {
    let flat: Vec<f32> = rows.iter().flat_map(|r| r.iter().copied()).collect();
    let array = Array2::from_shape_vec((rows.len(), dims), flat).expect("every row has `dims` values");
    let mut bytes = Vec::new();
    array.write_npy(&mut bytes).expect("writing to memory cannot fail");
    bytes
}

/// A float32 or float64 2-D `.npy` file as rows of f32.
pub fn from_npy(bytes: &[u8]) -> Result<Array2<f32>, String> {
    match Array2::<f32>::read_npy(bytes) {
        Ok(array) => Ok(array),
        Err(_) => Array2::<f64>::read_npy(bytes)
            .map(|a| a.mapv(|v| v as f32))
            .map_err(|e| format!("not a 2-D float32 or float64 .npy array ({e})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npy_round_trips() {
        let rows: [&[f32]; 2] = [&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.5]];
        let bytes = to_npy(&rows, 3);
        assert!(bytes.starts_with(b"\x93NUMPY"));
        let back = from_npy(&bytes).unwrap();
        assert_eq!(back.shape(), [2, 3]);
        assert_eq!(back[[1, 2]], 6.5);
        assert!(from_npy(b"not npy").is_err());
    }
}
