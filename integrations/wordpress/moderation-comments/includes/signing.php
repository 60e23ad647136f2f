<?php
/**
 * Request signing shared with the moderation service (pure PHP, no WordPress calls, so php-cli can test it).
 *
 * The signed bytes are TIMESTAMP . "." . METHOD . "." . PATH_WITH_QUERY . "." . RAW_BODY and the header value
 * is "sha256=" . lower-case hex HMAC-SHA256 keyed with the site's secret -- byte for byte what
 * moderation/signing.py computes, in both directions (our requests, their callbacks).
 *
 * @package ModerationComments
 */

if ( ! defined( 'MODCOM_SIGNING' ) ) {
	define( 'MODCOM_SIGNING', 1 );
	define( 'MODCOM_MAX_SKEW', 300 );

	/** The signature header value for one request. */
	function modcom_sign( $secret, $timestamp, $method, $path_with_query, $body ) {
		$message = $timestamp . '.' . strtoupper( $method ) . '.' . $path_with_query . '.' . $body;
		return 'sha256=' . hash_hmac( 'sha256', $message, $secret );
	}

	/** The three authentication headers for a request signed now (or at $now). */
	function modcom_signed_headers( $site, $secret, $method, $path_with_query, $body, $now = null ) {
		$timestamp = (string) ( null === $now ? time() : (int) $now );
		return array(
			'X-Moderation-Site'      => $site,
			'X-Moderation-Timestamp' => $timestamp,
			'X-Moderation-Signature' => modcom_sign( $secret, $timestamp, $method, $path_with_query, $body ),
		);
	}

	/**
	 * Check a callback from the service: right site, fresh timestamp, matching signature (constant-time compare).
	 * Returns '' when it verifies, else the reason (safe to log: it holds no secret).
	 */
	function modcom_verify( $secret, $expected_site, $site, $timestamp, $signature, $method, $path_with_query, $body, $now = null ) {
		if ( '' === (string) $secret ) {
			return 'plugin not configured';
		}
		if ( ! is_string( $site ) || ! hash_equals( (string) $expected_site, $site ) ) {
			return 'wrong site';
		}
		if ( ! is_string( $timestamp ) || ! preg_match( '/^-?[0-9]{1,12}$/', $timestamp ) ) {
			return 'missing or malformed timestamp';
		}
		if ( abs( ( null === $now ? time() : (int) $now ) - (int) $timestamp ) > MODCOM_MAX_SKEW ) {
			return 'timestamp outside the allowed window';
		}
		if ( ! is_string( $signature ) ) {
			return 'missing signature';
		}
		$expected = modcom_sign( $secret, $timestamp, $method, $path_with_query, $body );
		return hash_equals( $expected, trim( $signature ) ) ? '' : 'signature does not match';
	}

	/** The path and query of a URL, as the service signs it (path "/" when empty). */
	function modcom_path_with_query( $url ) {
		$parts = parse_url( $url );
		$path  = isset( $parts['path'] ) && '' !== $parts['path'] ? $parts['path'] : '/';
		return $path . ( isset( $parts['query'] ) && '' !== $parts['query'] ? '?' . $parts['query'] : '' );
	}

	/**
	 * The intake JSON for one comment, from plain fields (a WP_Comment's, see modcom_comment_fields()).
	 * Only id and content are required by the service; empty optional fields are left out.
	 */
	function modcom_comment_body( array $c ) {
		$author = array_filter(
			array(
				'name'       => isset( $c['comment_author'] ) ? (string) $c['comment_author'] : '',
				'email'      => isset( $c['comment_author_email'] ) ? (string) $c['comment_author_email'] : '',
				'url'        => isset( $c['comment_author_url'] ) ? (string) $c['comment_author_url'] : '',
				'ip'         => isset( $c['comment_author_IP'] ) ? (string) $c['comment_author_IP'] : '',
				'user_agent' => isset( $c['comment_agent'] ) ? (string) $c['comment_agent'] : '',
			),
			'strlen'
		);
		// A logged-in WordPress user: the site vouches for who wrote it (allow rules on typed fields need it).
		if ( ! empty( $c['user_id'] ) ) {
			$author['verified'] = true;
		}
		$post = array_filter(
			array(
				'id'    => isset( $c['comment_post_ID'] ) ? (string) $c['comment_post_ID'] : '',
				'url'   => isset( $c['post_url'] ) ? (string) $c['post_url'] : '',
				'title' => isset( $c['post_title'] ) ? (string) $c['post_title'] : '',
			),
			'strlen'
		);
		$body = array(
			'id'      => (string) $c['comment_ID'],
			'content' => (string) $c['comment_content'],
		);
		if ( $author ) {
			$body['author'] = $author;
		}
		if ( $post ) {
			$body['post'] = $post;
		}
		if ( ! empty( $c['comment_parent'] ) ) {
			$body['parent_id'] = (string) $c['comment_parent'];
		}
		if ( ! empty( $c['comment_date_gmt'] ) && '0000-00-00 00:00:00' !== $c['comment_date_gmt'] ) {
			$body['created_at'] = str_replace( ' ', 'T', $c['comment_date_gmt'] ) . 'Z';
		}
		if ( ! empty( $c['lang'] ) ) {
			$body['lang'] = (string) $c['lang'];
		}
		// An edited comment: the same id with a higher revision is scored again by the service.
		if ( ! empty( $c['revision'] ) && (int) $c['revision'] > 0 ) {
			$body['revision'] = (int) $c['revision'];
		}
		// Slashes and non-ASCII text are sent as they are; the signature covers these exact bytes.
		return json_encode( $body, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_INVALID_UTF8_SUBSTITUTE );
	}

	/** The WordPress comment status a service status maps to (null: leave the comment as it is). */
	function modcom_wp_status( $status ) {
		$map = array(
			'approved' => 'approve',
			'held'     => 'hold',
			'spam'     => 'spam',
			'rejected' => 'trash',
		);
		return isset( $map[ $status ] ) ? $map[ $status ] : null;
	}
}
