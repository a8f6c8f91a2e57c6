//! The units every report prints: bytes per block, MB/s, CPU % and sizes in bytes, each
//! computed here only.

/// Bytes one block moves: frames × (inputs + outputs) × sample size (4, or 8 with `-double`),
/// as faustbench-llvm counts them.
pub fn bytes_per_block(frames: usize, channels: usize, sample_bytes: usize) -> f64 {
    (frames * channels * sample_bytes) as f64
}

/// MB/s (MB = 2^20 bytes, as faustbench-llvm prints) for `bytes` moved in `ns`; 0 for no time.
pub fn mbps(bytes: f64, ns: f64) -> f64 {
    if ns <= 0.0 {
        return 0.0;
    }
    bytes / (ns * 1e-9) / (1u64 << 20) as f64
}

/// Frames (one sample of every channel) computed per second when `frames` take `ns`; 0 for no
/// time. Times the channels and the sample size, it is [`mbps`]'s bytes.
pub fn frames_per_second(frames: usize, ns: f64) -> f64 {
    if ns <= 0.0 {
        return 0.0;
    }
    frames as f64 / (ns * 1e-9)
}

/// Time of a block as % of the audio time it stands for at `sample_rate`: the share of one
/// core a host running it in real time would use.
pub fn cpu_percent(ns_per_block: f64, frames: usize, sample_rate: u32) -> f64 {
    let audio_ns = frames as f64 / sample_rate as f64 * 1e9;
    100.0 * ns_per_block / audio_ns
}

/// `1536` → `1.5 KiB`.
pub fn human_bytes(bytes: u64) -> String {
    let b = bytes as f64;
    match bytes {
        0..=1023 => format!("{bytes} B"),
        1024..=1_048_575 => format!("{:.1} KiB", b / 1024.0),
        _ => format!("{:.1} MiB", b / 1_048_576.0),
    }
}

/// Sample rates at which CPU % is always reported.
pub const REPORTED_RATES: [u32; 3] = [44100, 48000, 96000];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throughput_and_cpu_agree() {
        // 512 frames × 3 channels × 4 bytes in 1 ms.
        let bytes = bytes_per_block(512, 3, 4);
        assert_eq!(bytes, 6144.0);
        assert!((mbps(bytes, 1e6) - 6144.0 / 1e-3 / 1048576.0).abs() < 1e-9);
        assert_eq!(mbps(bytes, 0.0), 0.0);
        // Frames per second × channels × sample size is the same bytes per second.
        let frames = frames_per_second(512, 1e6);
        assert!((frames * 3.0 * 4.0 / 1048576.0 - mbps(bytes, 1e6)).abs() < 1e-9);
        assert_eq!(frames_per_second(512, 0.0), 0.0);
        // 1 ms of work for 512/44100 s of audio.
        assert!((cpu_percent(1e6, 512, 44100) - 100.0 * 1e-3 / (512.0 / 44100.0)).abs() < 1e-9);
        assert!(
            (cpu_percent(1e6, 512, 96000) - cpu_percent(1e6, 512, 44100) * 96000.0 / 44100.0).abs()
                < 1e-9
        );
    }
}
